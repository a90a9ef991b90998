// Command ec2 is awsretry's demo: it launches an EC2 instance and waits for
// it to be visible, through the real aws-sdk-go-v2 EC2 client, against a
// local AWS-compatible endpoint that misbehaves as EC2 does. RunInstances is
// throttled once (RequestLimitExceeded), and DescribeInstances reports the
// new instance missing (InvalidInstanceID.NotFound, eventual consistency)
// three times. Both calls are wrapped in awsretry Retriers, which ride it
// out. It needs no AWS account:
//
//	cd examples && go run ./ec2
//
// RunInstances is the pattern to copy for calls that create something: the
// Retrier is made WithScope and the client's configuration with
// awssdk.InsideDo, so every attempt sends the same ClientToken, and an
// attempt that failed after EC2 launched the instance cannot launch a
// second one when it is retried.
//
// It prints a line per attempt, then the trace as a tree; with -json also
// the spans as the OpenTelemetry stdout exporter writes them, and to an
// OTLP collector when OTEL_EXPORTER_OTLP_ENDPOINT is set (for example
// http://localhost:4318).
//
// With -real it calls real EC2 instead (read-only: DescribeInstances of the
// -instance given), with the credentials of -profile in -region.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awssdk"
	"github.com/awsretry/awsretry/examples/awsfake"
)

func main() {
	var (
		delay    = flag.Duration("delay", 500*time.Millisecond, "first wait between attempts")
		backoff  = flag.Float64("backoff", 1.5, "multiplier of the wait after each retry")
		real     = flag.Bool("real", false, "call real EC2 (read-only DescribeInstances) instead of the local endpoint")
		region   = flag.String("region", "us-east-1", "AWS region, with -real")
		profile  = flag.String("profile", "", "AWS shared-config profile, with -real")
		instance = flag.String("instance", "", "instance id to describe, with -real")
		json     = flag.Bool("json", false, "also print the spans as the OpenTelemetry stdout exporter writes them")
	)
	flag.Parse()
	if err := run(os.Stdout, *delay, *backoff, *real, *region, *profile, *instance, *json); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, delay time.Duration, backoff float64, real bool, region, profile, instance string, json bool) error {
	ctx := context.Background()
	tree := &treeRecorder{}
	tp, exporter, err := tracerProvider(ctx, out, tree, json)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "\ntrace:")
		tree.print(out)
		if exporter != "" {
			fmt.Fprintln(out, "\n"+exporter+":")
		}
		if err := tp.Shutdown(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "trace export:", err)
		}
	}()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})

	start := time.Now()
	// printAttempt narrates each retry awsretry schedules.
	printAttempt := func(_ context.Context, a awsretry.Attempt) {
		fmt.Fprintf(out, "%7.3fs   attempt %d failed: %s (%s): retrying in %v\n",
			time.Since(start).Seconds(), a.Number, a.Classification.Code, a.Classification.Class, a.Delay)
	}
	// One policy; each kind of operation names its spans. WithScope gives
	// each Do call the idempotency token that InsideDo pins RunInstances'
	// ClientToken to.
	policy := awsretry.MustNew(awsretry.WithDelay(delay), awsretry.WithBackoff(backoff), awsretry.WithOnRetry(printAttempt),
		awsretry.WithScope())
	launch, wait := policy.Named("ec2.RunInstances"), policy.Named("ec2.WaitForInstance")

	// InsideDo: one SDK attempt per call (the retries are awsretry's), and
	// the tokens the SDK fills pinned to the Do call.
	opts := []func(*config.LoadOptions) error{awssdk.InsideDo()}
	if real {
		opts = append(opts, config.WithRegion(region), config.WithSharedConfigProfile(profile))
	} else {
		srv := awsfake.NewServer()
		defer srv.Close()
		srv.Script("ec2:RunInstances", awsfake.Reply{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."})
		notFound := awsfake.Reply{Status: 400, Code: "InvalidInstanceID.NotFound",
			Message: "The instance ID '" + awsfake.InstanceID + "' does not exist"}
		srv.Script("ec2:DescribeInstances", notFound, notFound, notFound)
		srv.OnReply = func(op string, status int, code string) {
			if code == "" {
				code = "OK"
			}
			fmt.Fprintf(out, "%7.3fs %s -> HTTP %d %s\n", time.Since(start).Seconds(), op, status, code)
		}
		opts = append(opts, config.WithRegion("us-east-1"), config.WithBaseEndpoint(srv.URL),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")))
		fmt.Fprintln(out, "local AWS-compatible endpoint at", srv.URL)
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return err
	}
	cfg.HTTPClient = &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport)}
	client := ec2.NewFromConfig(cfg)

	ctx, span := tp.Tracer("awsretry-demo").Start(ctx, "launch-instance")
	defer span.End()

	id := instance
	if !real {
		launched, err := awsretry.DoValue(ctx, launch, func(ctx context.Context) (*ec2.RunInstancesOutput, error) {
			return client.RunInstances(ctx, &ec2.RunInstancesInput{
				ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: types.InstanceTypeT3Micro,
				MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		})
		if err != nil {
			return fmt.Errorf("RunInstances: %w", err)
		}
		id = aws.ToString(launched.Instances[0].InstanceId)
		fmt.Fprintf(out, "%7.3fs launched %s\n", time.Since(start).Seconds(), id)
	}
	if id == "" {
		return errors.New("-real needs -instance")
	}
	span.SetAttributes(attribute.String("ec2.instance_id", id))

	described, err := awsretry.DoValue(ctx, wait, func(ctx context.Context) (*ec2.DescribeInstancesOutput, error) {
		return client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	})
	if err != nil {
		return fmt.Errorf("DescribeInstances: %w", err)
	}
	state := described.Reservations[0].Instances[0].State.Name
	fmt.Fprintf(out, "%7.3fs %s is %s\n", time.Since(start).Seconds(), id, state)
	return nil
}

// tracerProvider gives every span to tree; it also exports them to OTLP
// over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-specific
// variable) is set, or else, with json, to w through the stdout exporter,
// one JSON document per span. It returns the exporter's description, ""
// for none.
func tracerProvider(ctx context.Context, w io.Writer, tree sdktrace.SpanProcessor, json bool) (*sdktrace.TracerProvider, string, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", "awsretry-demo")))
	if err != nil {
		return nil, "", err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(tree), sdktrace.WithResource(res)}
	var exporter sdktrace.SpanExporter
	var name string
	switch {
	case os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "":
		exporter, err = otlptracehttp.New(ctx)
		name = "exported over OTLP/HTTP"
	case json:
		exporter, err = stdouttrace.New(stdouttrace.WithWriter(w))
		name = "OpenTelemetry stdout exporter"
	}
	if err != nil {
		return nil, "", err
	}
	if exporter != nil {
		opts = append(opts, sdktrace.WithBatcher(exporter))
	}
	return sdktrace.NewTracerProvider(opts...), name, nil
}
