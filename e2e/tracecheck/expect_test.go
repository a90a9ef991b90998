package tracecheck_test

import (
	"github.com/awsretry/awsretry/e2e/internal/scenario"
	"github.com/awsretry/awsretry/e2e/tracecheck"
)

// expected is the trace of one run of the scenario, written out by hand:
// RunInstances throttled once, DescribeInstances answered NotFound three
// times, each inside Do; then CreateTags throttled twice, through the EC2
// client configured with the adapter and traced by the SDK. First wait
// 100 ms and backoff 1.5 (waits 0.1, 0.15, 0.225 s). The endpoint numbers
// its request ids across operations.
func expected() *tracecheck.Expectation {
	notFound := func(id string, delay float64) tracecheck.Attempt {
		return tracecheck.Attempt{Status: 400, Code: "InvalidInstanceID.NotFound", Class: "eventual_consistency",
			RequestID: id, Delay: delay}
	}
	throttled := func(id string, delay float64) tracecheck.Attempt {
		return tracecheck.Attempt{Status: 503, Code: "RequestLimitExceeded", Class: "throttle", RequestID: id, Delay: delay}
	}
	return &tracecheck.Expectation{
		ClientService: scenario.ClientService, // awsretry-e2e-client
		ServerService: scenario.ServerService, // awsfake-ec2
		Root:          "launch-instance",
		Calls: []tracecheck.Call{
			{Span: "ec2.RunInstances", Operation: "RunInstances", Attempts: []tracecheck.Attempt{
				throttled("req-0001", 0.1),
				{Status: 200},
			}},
			{Span: "ec2.WaitForInstance", Operation: "DescribeInstances", Attempts: []tracecheck.Attempt{
				notFound("req-0003", 0.1),
				notFound("req-0004", 0.15),
				notFound("req-0005", 0.225),
				{Status: 200},
			}},
			{Span: "EC2.CreateTags", Operation: "CreateTags", SDK: sdkSpans(), Attempts: []tracecheck.Attempt{
				throttled("req-0007", 0.1),
				throttled("req-0008", 0.15),
				{Status: 200},
			}},
		},
	}
}

// sdkSpans are the steps aws-sdk-go-v2 v1.48.0 (smithy-go v1.28.9, EC2
// v1.344.3) traces for an EC2 operation: a new version may add or drop
// some, which the check then shows.
func sdkSpans() *tracecheck.SDKSpans {
	return &tracecheck.SDKSpans{
		Steps: []string{"OperationSerializer"},
		AttemptSteps: []string{"ResolveAuthScheme", "GetIdentity", "ResolveEndpoint", "ComputePayloadSHA256",
			"SignRequest", "OperationDeserializer"},
	}
}
