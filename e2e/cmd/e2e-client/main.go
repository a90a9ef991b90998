// Command e2e-client is the client side of the end-to-end tracing test, a
// service of its own, "awsretry-e2e-client". Under one root span it
// launches an EC2 instance and waits for it, through the real aws-sdk-go-v2
// EC2 client against the awsfake-server endpoint at -endpoint, each call
// wrapped in an awsretry Retrier's Do (-delay first wait, -backoff
// multiplier); then it tags the instance through a second EC2 client
// configured with the awssdk adapter, the same Retrier inside the SDK's
// retry loop, and with the SDK's own tracing on, so that the attempt
// events go to the SDK's operation span "EC2.CreateTags".
// The SDK's HTTP client is instrumented with otelhttp, so every attempt is
// a CLIENT span (under the Retrier's span, or under the SDK's Attempt
// span), and carries the W3C traceparent header to the server. Spans go
// over OTLP to Jaeger and are flushed before it exits; the trace id is
// printed and written to -trace-id-file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/tracing/smithyoteltracing"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awssdk"
	"github.com/awsretry/awsretry/e2e/internal/otelsetup"
	"github.com/awsretry/awsretry/e2e/internal/scenario"
	"github.com/awsretry/awsretry/examples/awsfake"
)

func main() {
	var (
		endpoint    = flag.String("endpoint", "", "base URL of the AWS-compatible endpoint (awsfake-server)")
		otlp        = flag.String("otlp", "http://127.0.0.1:4318", "OTLP/HTTP endpoint of the trace backend")
		traceIDFile = flag.String("trace-id-file", "", "file to write the trace id to")
		delay       = flag.Duration("delay", scenario.Delay, "first wait between attempts")
		backoff     = flag.Float64("backoff", scenario.Backoff, "multiplier of the wait after each retry")
	)
	flag.Parse()
	if *endpoint == "" {
		log.Fatal("e2e-client: -endpoint is required")
	}
	id, err := run(*endpoint, *otlp, *delay, *backoff)
	if err != nil {
		log.Fatal("e2e-client: ", err)
	}
	fmt.Println("trace id:", id)
	if *traceIDFile != "" {
		if err := os.WriteFile(*traceIDFile, []byte(id+"\n"), 0o644); err != nil {
			log.Fatal("e2e-client: ", err)
		}
	}
}

// run makes the calls and returns the trace id, once every span is
// exported.
func run(endpoint, otlp string, delay time.Duration, backoff float64) (traceID string, err error) {
	ctx := context.Background()
	tp, err := otelsetup.Start(ctx, scenario.ClientService, otlp)
	if err != nil {
		return "", err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if serr := tp.Shutdown(sctx); serr != nil && err == nil {
			err = fmt.Errorf("flushing spans: %w", serr)
		}
	}()

	start := time.Now()
	logRetry := func(_ context.Context, a awsretry.Attempt) {
		log.Printf("%7.3fs attempt %d failed: %s (%s): retrying in %v",
			time.Since(start).Seconds(), a.Number, a.Classification.Code, a.Classification.Class, a.Delay)
	}
	policy, err := awsretry.New(awsretry.WithDelay(delay), awsretry.WithBackoff(backoff), awsretry.WithTries(scenario.Tries),
		awsretry.WithOnRetry(logRetry), awsretry.WithScope())
	if err != nil {
		return "", err
	}
	launch, wait := policy.Named(scenario.LaunchSpan), policy.Named(scenario.WaitSpan)

	cfg := awsfake.Config(endpoint) // one SDK attempt per call, as awssdk.InsideDo sets
	// RunInstances' ClientToken pinned to its Do call (the Retrier is made
	// WithScope): an attempt that failed after EC2 launched cannot launch
	// again.
	cfg.APIOptions = append(cfg.APIOptions, awssdk.PinTokens)
	cfg.HTTPClient = &http.Client{
		Transport: otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithSpanNameFormatter(clientSpanName)),
		Timeout:   10 * time.Second,
	}
	client := awsfake.EC2(cfg)
	// The third call's client: the same Retrier inside the SDK's retry loop
	// (never around it, with Do), and the SDK's spans, through the same
	// tracer provider and HTTP client. cfg's RetryMaxAttempts of 1 is for
	// the client inside Do; here the Retrier's WithTries decides.
	tagger := ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		o.APIOptions = append(o.APIOptions, awssdk.APIOption(policy))
		o.TracerProvider = smithyoteltracing.Adapt(tp)
	})

	ctx, root := otel.Tracer("github.com/awsretry/awsretry/e2e").Start(ctx, scenario.RootSpan)
	defer root.End()
	traceID = root.SpanContext().TraceID().String()

	launched, err := awsretry.DoValue(ctx, launch, func(ctx context.Context) (*ec2.RunInstancesOutput, error) {
		return client.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	})
	if err != nil {
		return traceID, fmt.Errorf("RunInstances: %w", err)
	}
	if len(launched.Instances) == 0 {
		return traceID, errors.New("RunInstances launched no instance")
	}
	id := aws.ToString(launched.Instances[0].InstanceId)
	log.Printf("%7.3fs launched %s", time.Since(start).Seconds(), id)

	described, err := awsretry.DoValue(ctx, wait, func(ctx context.Context) (*ec2.DescribeInstancesOutput, error) {
		return client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	})
	if err != nil {
		return traceID, fmt.Errorf("DescribeInstances: %w", err)
	}
	if len(described.Reservations) == 0 || len(described.Reservations[0].Instances) == 0 {
		return traceID, errors.New("DescribeInstances found no instance")
	}
	log.Printf("%7.3fs %s is %s", time.Since(start).Seconds(), id, described.Reservations[0].Instances[0].State.Name)

	// No Do around it: the adapter retries inside the client.
	if _, err := tagger.CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: []string{id},
		Tags:      []types.Tag{{Key: aws.String("Name"), Value: aws.String("awsretry-e2e")}}}); err != nil {
		return traceID, fmt.Errorf("%s: %w", scenario.TagOperation, err)
	}
	log.Printf("%7.3fs tagged %s", time.Since(start).Seconds(), id)
	return traceID, nil
}

// clientSpanName names an attempt's CLIENT span after the method and the
// AWS operation, "POST EC2/DescribeInstances": the SDK keeps the operation
// in the request's context.
func clientSpanName(_ string, r *http.Request) string {
	ctx := r.Context()
	if op := awsmiddleware.GetOperationName(ctx); op != "" {
		return r.Method + " " + awsmiddleware.GetServiceID(ctx) + "/" + op
	}
	return r.Method
}
