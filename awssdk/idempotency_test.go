package awssdk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/awsretrytest"
	"github.com/awsretry/awsretry/awssdk"
	"github.com/awsretry/awsretry/examples/awsfake"
)

// attemptTimeout bounds each attempt of the idempotency tests, in every
// mode: the Retrier's WithAttemptTimeout, the SDK alone's http.Client
// Timeout.
const attemptTimeout = 200 * time.Millisecond

// mode is one documented way of retrying an SDK call: it makes the call
// op of the clients of a server's URL, retried as the mode retries.
type mode struct {
	name string
	// safe: the mode is one the README recommends; it must create what
	// the caller intended, whatever the fault.
	safe bool
	call func(t *testing.T, url, op string) error
}

// retrier is the Retrier of the modes that use one.
func retrier(opts ...awsretry.Option) *awsretry.Retrier {
	return awsretry.MustNew(append([]awsretry.Option{awsretry.WithClock(awsretrytest.NewClock()),
		awsretry.WithAttemptTimeout(attemptTimeout), awsretry.WithTries(3)}, opts...)...)
}

// insideDo is awsfake's configuration as awssdk.InsideDo makes it.
func insideDo(t testing.TB, url string) aws.Config {
	t.Helper()
	cfg := awsfake.Config(url)
	opts, err := loadOptions(awssdk.InsideDo())
	if err != nil {
		t.Fatal(err)
	}
	cfg.RetryMaxAttempts = opts.RetryMaxAttempts
	cfg.APIOptions = opts.APIOptions
	return cfg
}

var modes = []mode{
	{"the SDK's own retryer", true, func(t *testing.T, url, op string) error {
		cfg := awsfake.Config(url)
		cfg.RetryMaxAttempts = 0
		cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Millisecond) }
		cfg.HTTPClient = &http.Client{Timeout: attemptTimeout}
		return awsfake.NewClients(cfg).Call(context.Background(), op)
	}},
	{"awssdk.WithRetrier(r)", true, func(t *testing.T, url, op string) error {
		return awsfake.NewClients(adapterConfig(t, url, retrier())).Call(context.Background(), op)
	}},
	{"r.Do around the call, awssdk.InsideDo()", true, func(t *testing.T, url, op string) error {
		clients := awsfake.NewClients(insideDo(t, url))
		return retrier(awsretry.WithScope()).Do(context.Background(), func(ctx context.Context) error { return clients.Call(ctx, op) })
	}},
	{"r.Do around the call, one SDK attempt, nothing else", false, func(t *testing.T, url, op string) error {
		clients := awsfake.NewClients(awsfake.Config(url))
		return retrier().Do(context.Background(), func(ctx context.Context) error { return clients.Call(ctx, op) })
	}},
}

// ambiguousFaults are failures that come after the service acted.
var ambiguousFaults = []struct {
	name  string
	reply func(op string) awsfake.Reply
}{
	{"reset after acting", func(string) awsfake.Reply { return awsfake.Reply{Fault: awsfake.FaultReset, AfterActing: true} }},
	{"hang past the attempt timeout", func(string) awsfake.Reply { return awsfake.Reply{Fault: awsfake.FaultHang, AfterActing: true} }},
	{"500 after acting", func(op string) awsfake.Reply {
		code := "InternalError"
		if strings.HasPrefix(op, "dynamodb:") {
			code = "InternalServerError"
		}
		return awsfake.Reply{Status: 500, Code: code, AfterActing: true}
	}},
	{"200 with the body cut", func(string) awsfake.Reply { return awsfake.Reply{Fault: awsfake.FaultCloseMidBody} }},
}

// TestIdempotencyTable: one intended launch (EC2 RunInstances) and one
// intended transaction (DynamoDB TransactWriteItems), whose first request
// fails after the service acted, in every way of retrying the call: the
// resources created. The modes the README recommends create one; retrying
// around the call without InsideDo sends a new token and creates two.
// Run with -v to print the table.
func TestIdempotencyTable(t *testing.T) {
	var table strings.Builder
	fmt.Fprintf(&table, "\n| operation | how the call is retried |")
	for _, f := range ambiguousFaults {
		fmt.Fprintf(&table, " %s |", f.name)
	}
	fmt.Fprintf(&table, "\n|---|---|%s\n", strings.Repeat("---|", len(ambiguousFaults)))
	for _, op := range []string{"ec2:RunInstances", "dynamodb:TransactWriteItems"} {
		for _, m := range modes {
			fmt.Fprintf(&table, "| %s | %s |", op, m.name)
			for _, f := range ambiguousFaults {
				srv := awsfake.NewServer()
				srv.Script(op, f.reply(op))
				err := m.call(t, srv.URL, op)
				created := srv.Applied(op)
				srv.Close()
				cell := fmt.Sprint(created)
				if err != nil {
					cell += " (error)"
				}
				fmt.Fprintf(&table, " %s |", cell)
				switch {
				case m.safe && created != 1:
					t.Errorf("%s, %s, %s: %d created (err %v), want 1", op, m.name, f.name, created, err)
				case !m.safe && created != 2:
					t.Errorf("%s, %s, %s: %d created, want the duplicate this mode makes (2)", op, m.name, f.name, created)
				}
				if err != nil && !(m.name == modes[0].name && f.name == "200 with the body cut") {
					t.Errorf("%s, %s, %s: %v", op, m.name, f.name, err)
				}
			}
			table.WriteString("\n")
		}
	}
	t.Log(table.String())
}

// runInstances launches one t3.micro through client, with input's fields
// when given.
func runInstances(ctx context.Context, client *ec2.Client, instanceType types.InstanceType) (*ec2.RunInstancesOutput, error) {
	return client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"),
		InstanceType: instanceType, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
}

// TestTwoLaunchesInOneDo: a Do that launches twice, the second launch
// failing after it acted: the retry repeats both launches, and the
// service answers both repeats with the instances launched. Without
// InsideDo, both are launched again.
func TestTwoLaunchesInOneDo(t *testing.T) {
	for _, pinned := range []bool{true, false} {
		srv := awsfake.NewServer()
		srv.Script("ec2:RunInstances", awsfake.Reply{}, awsfake.Reply{Fault: awsfake.FaultReset, AfterActing: true})
		cfg := awsfake.Config(srv.URL)
		if pinned {
			cfg = insideDo(t, srv.URL)
		}
		client := ec2.NewFromConfig(cfg)
		var ids []string
		err := retrier(awsretry.WithScope()).Do(context.Background(), func(ctx context.Context) error {
			ids = ids[:0]
			for range 2 {
				out, err := runInstances(ctx, client, types.InstanceTypeT3Micro)
				if err != nil {
					return err
				}
				ids = append(ids, aws.ToString(out.Instances[0].InstanceId))
			}
			return nil
		})
		created := srv.Applied("ec2:RunInstances")
		srv.Close()
		want := 2
		if !pinned {
			want = 4
		}
		if err != nil || created != want || len(ids) != 2 || ids[0] == ids[1] {
			t.Errorf("InsideDo %v: err %v, %d instances created, ids %v; want %d created and two distinct ids", pinned, err, created, ids, want)
		}
	}
}

// TestChangedParametersAreRefused: an attempt that changes a call's
// parameters sends the same token, and the service's
// IdempotentParameterMismatch reaches the caller instead of a second
// launch.
func TestChangedParametersAreRefused(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	srv.Script("ec2:RunInstances", awsfake.Reply{Fault: awsfake.FaultReset, AfterActing: true})
	client := ec2.NewFromConfig(insideDo(t, srv.URL))
	err := retrier(awsretry.WithScope()).Do(context.Background(), func(ctx context.Context) error {
		s, _ := awsretry.ScopeFrom(ctx)
		instanceType := types.InstanceTypeT3Micro
		if s.Attempt() > 1 {
			instanceType = types.InstanceTypeT3Large
		}
		_, err := runInstances(ctx, client, instanceType)
		return err
	})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "IdempotentParameterMismatch" || srv.Applied("ec2:RunInstances") != 1 {
		t.Errorf("err %v, %d launched; want IdempotentParameterMismatch and 1", err, srv.Applied("ec2:RunInstances"))
	}
}

// TestConcurrentCallsInOneAttempt: calls of one operation made at once in
// one attempt get distinct tokens; repeated in the next attempt, in
// whatever order they arrive, they launch nothing twice. Calls with
// different parameters name their own tokens.
func TestConcurrentCallsInOneAttempt(t *testing.T) {
	const n = 4
	launchAll := func(client *ec2.Client, types func(i int) types.InstanceType, token func(ctx context.Context, i int) *string) func(context.Context) error {
		return func(ctx context.Context) error {
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					_, errs[i] = client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"),
						InstanceType: types(i), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: token(ctx, i)})
				})
			}
			wg.Wait()
			return errors.Join(errs...)
		}
	}
	sameType := func(int) types.InstanceType { return types.InstanceTypeT3Micro }
	ownType := func(i int) types.InstanceType {
		return []types.InstanceType{"t3.micro", "t3.small", "t3.medium", "t3.large"}[i]
	}
	sdkToken := func(context.Context, int) *string { return nil }
	namedToken := func(ctx context.Context, i int) *string {
		s, _ := awsretry.ScopeFrom(ctx)
		return aws.String(s.Token(fmt.Sprint("web-", i)))
	}
	for _, tc := range []struct {
		name  string
		types func(int) types.InstanceType
		token func(context.Context, int) *string
	}{
		{"same parameters, tokens filled by the SDK", sameType, sdkToken},
		{"different parameters, a named token each", ownType, namedToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := awsfake.NewServer()
			defer srv.Close()
			srv.Script("ec2:RunInstances", awsfake.Reply{Fault: awsfake.FaultReset, AfterActing: true})
			client := ec2.NewFromConfig(insideDo(t, srv.URL))
			err := retrier(awsretry.WithScope(), awsretry.WithDelay(0)).Do(context.Background(), launchAll(client, tc.types, tc.token))
			if err != nil || srv.Applied("ec2:RunInstances") != n || srv.Calls("ec2:RunInstances") != 2*n {
				t.Errorf("err %v, %d launched in %d requests; want %d launched in %d", err, srv.Applied("ec2:RunInstances"),
					srv.Calls("ec2:RunInstances"), n, 2*n)
			}
		})
	}
}

// TestPinTokensLeavesTheRestAlone: outside a Do call the SDK fills tokens
// as it does, writing them into the caller's input; a token the caller
// set is sent as it is; inside a Do call the caller's input does not keep
// the pinned token, so an input reused for a second, intended launch
// launches again.
func TestPinTokensLeavesTheRestAlone(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	client := ec2.NewFromConfig(insideDo(t, srv.URL))
	input := func() *ec2.RunInstancesInput {
		return &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
	}
	outside := input()
	for range 2 {
		if _, err := client.RunInstances(context.Background(), input()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.RunInstances(context.Background(), outside); err != nil || outside.ClientToken == nil {
		t.Fatalf("err %v, token %v: want the SDK's token written into the input, as without InsideDo", err, outside.ClientToken)
	}
	if got := srv.Applied("ec2:RunInstances"); got != 3 {
		t.Errorf("%d launched outside Do, want 3", got)
	}

	r := retrier(awsretry.WithScope())
	mine := input()
	mine.ClientToken = aws.String("caller-token")
	reused := input()
	for range 2 {
		err := r.Do(context.Background(), func(ctx context.Context) error {
			if _, err := client.RunInstances(ctx, mine); err != nil {
				return err
			}
			_, err := client.RunInstances(ctx, reused)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The caller's token launched once; the reused input twice.
	if got := srv.Applied("ec2:RunInstances"); got != 3+1+2 {
		t.Errorf("%d launched in all, want 6", got)
	}
	if aws.ToString(mine.ClientToken) != "caller-token" || reused.ClientToken != nil {
		t.Errorf("inputs after the calls: the caller's token %q, the reused input's %v; want caller-token and none",
			aws.ToString(mine.ClientToken), reused.ClientToken)
	}
}

// TestInputBuiltOnceTrap: without InsideDo, the SDK writes the token it
// drew into the caller's input; an input built once and reused for a
// second, intended launch silently returns the first instance.
func TestInputBuiltOnceTrap(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	client := ec2.NewFromConfig(awsfake.Config(srv.URL))
	in := &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
	var ids []string
	for range 2 {
		out, err := client.RunInstances(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.Instances[0].InstanceId))
	}
	if srv.Applied("ec2:RunInstances") != 1 || ids[0] != ids[1] {
		t.Errorf("%d launched, ids %v: the trap is gone? want 1 launched and the first id twice", srv.Applied("ec2:RunInstances"), ids)
	}
}
