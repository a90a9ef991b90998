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

// Around the call: a client configured with InsideDo makes one attempt per
// call, and its RunInstances sends the same ClientToken in every attempt
// of a Do call of a Retrier made WithScope. Here the first request is
// reset after EC2 launched the instance: the retry gets that instance
// back, and nothing is launched twice.
func ExampleInsideDo() {
	srv := awsfake.NewServer() // a local endpoint that honours ClientToken as EC2 does
	defer srv.Close()
	srv.Script("ec2:RunInstances", awsfake.Reply{Fault: awsfake.FaultReset, AfterActing: true})

	r := awsretry.MustNew(awsretry.WithScope(), awsretry.WithClock(awsretrytest.NewClock()))
	cfg, err := config.LoadDefaultConfig(context.Background(),
		awssdk.InsideDo(), // one attempt per call, tokens pinned to the Do call
		config.WithRegion("us-east-1"), config.WithBaseEndpoint(srv.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")))
	if err != nil {
		panic(err)
	}
	client := ec2.NewFromConfig(cfg)

	out, err := awsretry.DoValue(context.Background(), r, func(ctx context.Context) (*ec2.RunInstancesOutput, error) {
		return client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"),
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	})
	fmt.Println(err, aws.ToString(out.Instances[0].InstanceId), srv.Calls("ec2:RunInstances"), srv.Applied("ec2:RunInstances"))
	// Output: <nil> i-0123456789abcdef0 2 1
}
