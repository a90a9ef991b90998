package awssdk_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/awssdk"
	"github.com/awsretry/awsretry/examples/awsfake"
)

// One line configures every client of a config: here against a local
// endpoint that throttles the call once, with a fake clock so that the
// example runs at once (in production, leave WithClock out).
func ExampleWithRetrier() {
	srv := awsfake.NewServer() // a local AWS-compatible endpoint
	defer srv.Close()
	srv.Script("ec2:DescribeInstances", awsfake.Reply{Status: 503, Code: "RequestLimitExceeded"})

	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))
	cfg, err := config.LoadDefaultConfig(context.Background(),
		awssdk.WithRetrier(r), // every client of cfg retries as r does
		config.WithRegion("us-east-1"), config.WithBaseEndpoint(srv.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")))
	if err != nil {
		panic(err)
	}

	client := ec2.NewFromConfig(cfg)
	_, err = client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{awsfake.InstanceID}})
	fmt.Println(err, srv.Calls("ec2:DescribeInstances"), clk.Sleeps())
	// Output: <nil> 2 [3s]
}

// One client only, through its options.
func ExampleAPIOption() {
	srv := awsfake.NewServer()
	defer srv.Close()
	srv.Script("ec2:DescribeInstances", awsfake.Reply{Status: 400, Code: "InvalidInstanceID.NotFound"})

	clk := awsretrytest.NewClock()
	r := awsretry.MustNew(awsretry.WithClock(clk))
	client := ec2.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")},
		func(o *ec2.Options) { o.APIOptions = append(o.APIOptions, awssdk.APIOption(r)) })
	_, err := client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{awsfake.InstanceID}})
	fmt.Println(err, srv.Calls("ec2:DescribeInstances"), clk.Sleeps())
	// Output: <nil> 2 [3s]
}
