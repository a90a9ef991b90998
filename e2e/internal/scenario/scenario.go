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
	// RootSpan is the client's root span, the parent of both Retrier spans.
	RootSpan = "launch-instance"
	// LaunchSpan is the Retrier span around RunInstances.
	LaunchSpan = "ec2.RunInstances"
	// WaitSpan is the Retrier span around DescribeInstances.
	WaitSpan = "ec2.WaitForInstance"
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
)
