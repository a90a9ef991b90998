// Package scenario holds what the e2e programs agree on: the services'
// names, the spans' names and the endpoint's misbehaviour.
package scenario

import "time"

// Service names (service.name) of the two processes.
const (
	ClientService = "awsretry-e2e-client"
	ServerService = "awsfake-ec2"
)

// Span names of the client.
const (
	// RootSpan is the client's root span, the parent of both Retrier spans
	// and of the SDK's operation span of TagOperation.
	RootSpan = "launch-instance"
	// LaunchSpan is the Retrier span around RunInstances.
	LaunchSpan = "ec2.RunInstances"
	// WaitSpan is the Retrier span around DescribeInstances.
	WaitSpan = "ec2.WaitForInstance"
)

// The third call, made by an EC2 client configured with the awssdk adapter
// (the same Retrier inside the SDK's retry loop) and with the SDK's own
// tracing on: no Retrier span, the attempt events go to the SDK's
// operation span, TagSpan.
const (
	// TagOperation is the EC2 action of the third call.
	TagOperation = "CreateTags"
	// TagSpan is the SDK's operation span of TagOperation, named
	// "<ServiceID>.<operation>" by aws-sdk-go-v2.
	TagSpan = "EC2." + TagOperation
)

// The Retriers' schedule: 100 ms, then 150 ms, then 225 ms.
const (
	Delay   = 100 * time.Millisecond
	Backoff = 1.5
	Tries   = 6
)

// What the endpoint answers before it succeeds.
const (
	// Throttles is how many times RunInstances answers 503
	// RequestLimitExceeded.
	Throttles = 1
	// NotFounds is how many times DescribeInstances answers 400
	// InvalidInstanceID.NotFound.
	NotFounds = 3
	// TagThrottles is how many times CreateTags answers 503
	// RequestLimitExceeded.
	TagThrottles = 2
)
