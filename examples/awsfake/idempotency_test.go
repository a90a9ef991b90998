package awsfake_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsretry/awsretry/examples/awsfake"
)

// instanceID returns the id of the nth instance (from 0) a Handler
// launches.
func instanceID(n int) string { return fmt.Sprintf("i-%017x", 0x0123456789abcdef0+n) }

// reservationID returns the id of the nth reservation (from 0) a Handler
// makes.
func reservationID(n int) string { return fmt.Sprintf("r-%017x", 0x0123456789abcdef0+n) }

func TestIDs(t *testing.T) {
	if instanceID(0) != awsfake.InstanceID || instanceID(1) != "i-0123456789abcdef1" || instanceID(16) != "i-0123456789abcdf00" {
		t.Errorf("instance ids %s, %s, %s", instanceID(0), instanceID(1), instanceID(16))
	}
}

// launch is one RunInstances request and what it gets.
type launch struct {
	token        *string // nil: the SDK fills in a fresh one
	maxCount     int32   // 0: 1
	instanceType ec2types.InstanceType
	// ids and reservation are the instances launched, or answered again
	// for a token seen before; code is the error code of a rejection
	// instead, with HTTP 400.
	ids         []string
	reservation string
	code        string
}

// run makes l's request and checks its answer.
func (l launch) run(t *testing.T, c awsfake.Clients) {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), MinCount: aws.Int32(1),
		MaxCount: aws.Int32(max(l.maxCount, 1)), InstanceType: l.instanceType, ClientToken: l.token}
	out, err := c.EC2.RunInstances(context.Background(), in)
	if l.code != "" {
		if got := shapeOf(err); got.Code != l.code || got.Status != 400 {
			t.Errorf("RunInstances: error code %q, HTTP %d; want %q, 400 (err %v)", got.Code, got.Status, l.code, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	if !slices.Equal(ids, l.ids) || aws.ToString(out.ReservationId) != l.reservation {
		t.Errorf("RunInstances launched %v in %s, want %v in %s", ids, aws.ToString(out.ReservationId), l.ids, l.reservation)
	}
}

// TestRunInstancesClientToken: RunInstances launches new instances for a
// new token, or none, answers a token's first launch again for the same
// parameters, and rejects it for others.
func TestRunInstancesClientToken(t *testing.T) {
	token := aws.String("token-1")
	for _, tc := range []struct {
		name     string
		launches []launch
		applied  int // instances launched
	}{
		{"no token set: the SDK fills in a fresh one each call", []launch{
			{ids: []string{awsfake.InstanceID}, reservation: reservationID(0)},
			{ids: []string{instanceID(1)}, reservation: reservationID(1)},
		}, 2},
		{"an empty token is none", []launch{
			{token: aws.String(""), ids: []string{awsfake.InstanceID}, reservation: reservationID(0)},
			{token: aws.String(""), ids: []string{instanceID(1)}, reservation: reservationID(1)},
		}, 2},
		{"same token, same parameters: the first launch again", []launch{
			{token: token, ids: []string{awsfake.InstanceID}, reservation: reservationID(0)},
			{token: token, ids: []string{awsfake.InstanceID}, reservation: reservationID(0)},
			{token: token, ids: []string{awsfake.InstanceID}, reservation: reservationID(0)},
		}, 1},
		{"same token, another MaxCount", []launch{
			{token: token, ids: []string{awsfake.InstanceID}, reservation: reservationID(0)},
			{token: token, maxCount: 2, code: "IdempotentParameterMismatch"},
			{token: token, ids: []string{awsfake.InstanceID}, reservation: reservationID(0)},
		}, 1},
		{"same token, another InstanceType", []launch{
			{token: token, ids: []string{awsfake.InstanceID}, reservation: reservationID(0)},
			{token: token, instanceType: ec2types.InstanceTypeM5Large, code: "IdempotentParameterMismatch"},
		}, 1},
		{"tokens are case-sensitive", []launch{
			{token: aws.String("Token"), ids: []string{awsfake.InstanceID}, reservation: reservationID(0)},
			{token: aws.String("token"), ids: []string{instanceID(1)}, reservation: reservationID(1)},
		}, 2},
		{"MaxCount instances, then one more", []launch{
			{token: token, maxCount: 3, ids: []string{instanceID(0), instanceID(1), instanceID(2)}, reservation: reservationID(0)},
			{token: token, maxCount: 3, ids: []string{instanceID(0), instanceID(1), instanceID(2)}, reservation: reservationID(0)},
			{ids: []string{instanceID(3)}, reservation: reservationID(1)},
		}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := awsfake.NewServer()
			defer srv.Close()
			c := newClients(srv.URL)
			for _, l := range tc.launches {
				l.run(t, c)
			}
			if got := srv.Applied("ec2:RunInstances"); got != tc.applied {
				t.Errorf("Applied = %d instances, want %d", got, tc.applied)
			}
			if got := srv.Calls("ec2:RunInstances"); got != len(tc.launches) {
				t.Errorf("%d requests, want %d", got, len(tc.launches))
			}
		})
	}
}

// TestDescribeInstancesAnswersForTheIDs: DescribeInstances answers for the
// instances asked about, in their reservations, or for every instance
// launched when asked about none.
func TestDescribeInstancesAnswersForTheIDs(t *testing.T) {
	srv := awsfake.NewServer()
	defer srv.Close()
	c := newClients(srv.URL)
	ctx := context.Background()

	// Nothing launched yet: InstanceID, as before the endpoint kept state.
	out, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := describedIDs(out); got != "r-0123456789abcdef0:i-0123456789abcdef0" {
		t.Errorf("with nothing launched, described %s, want InstanceID", got)
	}

	launch{maxCount: 2, ids: []string{instanceID(0), instanceID(1)}, reservation: reservationID(0)}.run(t, c)
	launch{instanceType: ec2types.InstanceTypeM5Large, ids: []string{instanceID(2)}, reservation: reservationID(1)}.run(t, c)
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{nil, "r-0123456789abcdef0:i-0123456789abcdef0,i-0123456789abcdef1 r-0123456789abcdef1:i-0123456789abcdef2"},
		{[]string{instanceID(2), instanceID(1)}, "r-0123456789abcdef1:i-0123456789abcdef2 r-0123456789abcdef0:i-0123456789abcdef1"},
		{[]string{"i-00000000000000042"}, "r-0123456789abcdef0:i-00000000000000042"},
	} {
		out, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: tc.ids})
		if err != nil {
			t.Fatal(err)
		}
		if got := describedIDs(out); got != tc.want {
			t.Errorf("DescribeInstances(%v) = %s, want %s", tc.ids, got, tc.want)
		}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				if i.State.Name != ec2types.InstanceStateNameRunning {
					t.Errorf("%s is %s, want running", aws.ToString(i.InstanceId), i.State.Name)
				}
				if want := map[bool]ec2types.InstanceType{true: "m5.large", false: "t3.micro"}[aws.ToString(i.InstanceId) == instanceID(2)]; i.InstanceType != want {
					t.Errorf("%s is of type %s, want %s", aws.ToString(i.InstanceId), i.InstanceType, want)
				}
			}
		}
	}
}

// describedIDs returns out's reservations and instances, as
// "r-1:i-1,i-2 r-2:i-3".
func describedIDs(out *ec2.DescribeInstancesOutput) string {
	var rs []string
	for _, r := range out.Reservations {
		var is []string
		for _, i := range r.Instances {
			is = append(is, aws.ToString(i.InstanceId))
		}
		rs = append(rs, aws.ToString(r.ReservationId)+":"+strings.Join(is, ","))
	}
	return strings.Join(rs, " ")
}

// transaction is one TransactWriteItems request, putting an item, and
// what it gets.
type transaction struct {
	token *string // nil: the SDK fills in a fresh one
	item  string  // the id of the item put
	// code is the error code of a rejection, with HTTP 400; "" for a
	// success.
	code string
}

// transact makes one TransactWriteItems call, putting the item with the
// id item, with the token (nil: the SDK fills in a fresh one).
func transact(ctx context.Context, c awsfake.Clients, token *string, item string) error {
	_, err := c.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: token,
		TransactItems: []ddbtypes.TransactWriteItem{{Put: &ddbtypes.Put{TableName: aws.String("items"),
			Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: item}}}}}})
	return err
}

// TestTransactWriteItemsClientRequestToken: TransactWriteItems applies a
// transaction with a new token, answers a token's first request again
// without applying it, and rejects the token with another request.
func TestTransactWriteItemsClientRequestToken(t *testing.T) {
	token := aws.String("token-1")
	for _, tc := range []struct {
		name         string
		transactions []transaction
		applied      int
	}{
		{"no token set: the SDK fills in a fresh one each call", []transaction{{item: "1"}, {item: "1"}}, 2},
		{"same token, same request: applied once", []transaction{{token: token, item: "1"}, {token: token, item: "1"}, {token: token, item: "1"}}, 1},
		{"same token, another request", []transaction{
			{token: token, item: "1"},
			{token: token, item: "2", code: "IdempotentParameterMismatchException"},
			{token: token, item: "1"},
		}, 1},
		{"tokens are case-sensitive", []transaction{{token: aws.String("Token"), item: "1"}, {token: aws.String("token"), item: "1"}}, 2},
		{"an empty token is invalid", []transaction{{token: aws.String(""), item: "1", code: "ValidationException"}}, 0},
		{"a token of 37 characters is invalid", []transaction{{token: aws.String(strings.Repeat("t", 37)), item: "1", code: "ValidationException"}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := awsfake.NewServer()
			defer srv.Close()
			c := newClients(srv.URL)
			for i, tr := range tc.transactions {
				err := transact(context.Background(), c, tr.token, tr.item)
				if got := shapeOf(err); tr.code != "" && (got.Code != tr.code || got.Status != 400) {
					t.Errorf("transaction %d: error code %q, HTTP %d; want %q, 400 (err %v)", i, got.Code, got.Status, tr.code, err)
				} else if tr.code == "" && err != nil {
					t.Errorf("transaction %d: %v", i, err)
				}
			}
			if got := srv.Applied("dynamodb:TransactWriteItems"); got != tc.applied {
				t.Errorf("Applied = %d, want %d", got, tc.applied)
			}
		})
	}
}

// TestEachCallActs: through Clients.Call, which sets no token, every call
// of a write acts once more; a read does nothing.
func TestEachCallActs(t *testing.T) {
	for _, tc := range []struct {
		op      string
		applied int // after two calls
	}{
		{"ec2:RunInstances", 2},
		{"dynamodb:TransactWriteItems", 2},
		{"dynamodb:PutItem", 2},
		{"dynamodb:UpdateItem", 2},
		{"ec2:DescribeInstances", 0},
		{"dynamodb:GetItem", 0},
		{"s3:GetObject", 0},
	} {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			srv := awsfake.NewServer()
			defer srv.Close()
			c := newClients(srv.URL)
			for range 2 {
				if err := c.Call(context.Background(), tc.op); err != nil {
					t.Fatal(err)
				}
			}
			if got := srv.Applied(tc.op); got != tc.applied {
				t.Errorf("Applied = %d after two calls, want %d", got, tc.applied)
			}
		})
	}
}

// actThenFail are the failures of a RunInstances request, with whether the
// endpoint launched its instance first.
var actThenFail = []struct {
	name  string
	reply awsfake.Reply
	// timeout, when set, bounds the first call: the client gives up.
	timeout time.Duration
	acted   bool
	code    string // the first call's error code, "" for a connection fault
}{
	{name: "reset after acting", reply: awsfake.Reply{Fault: awsfake.FaultReset, AfterActing: true}, acted: true},
	{name: "closed after acting", reply: awsfake.Reply{Fault: awsfake.FaultClose, AfterActing: true}, acted: true},
	{name: "hung after acting, past the client's deadline", reply: awsfake.Reply{Fault: awsfake.FaultHang, AfterActing: true},
		timeout: 100 * time.Millisecond, acted: true},
	{name: "500 after acting", reply: awsfake.Reply{Status: 500, Code: "InternalError", AfterActing: true}, acted: true, code: "InternalError"},
	{name: "200 with the body cut", reply: awsfake.Reply{Fault: awsfake.FaultCloseMidBody}, acted: true},
	{name: "200 with the body stalled, past the client's deadline", reply: awsfake.Reply{Fault: awsfake.FaultStallBody},
		timeout: 100 * time.Millisecond, acted: true},
	{name: "reset", reply: awsfake.Reply{Fault: awsfake.FaultReset}},
	{name: "hung, past the client's deadline", reply: awsfake.Reply{Fault: awsfake.FaultHang}, timeout: 100 * time.Millisecond},
	{name: "500", reply: awsfake.Reply{Status: 500, Code: "InternalError"}, code: "InternalError"},
}

// TestRunInstancesActThenFail: a RunInstances request that fails after
// launching its instance leaves the instance launched; a retry with the
// same ClientToken gets it, and launches nothing, while one with a new
// token launches another. A failure that did not act launches nothing.
func TestRunInstancesActThenFail(t *testing.T) {
	for _, tc := range actThenFail {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := awsfake.NewServer()
			defer srv.Close()
			replied := make(chan struct{}, 3)
			srv.OnReply = func(string, int, string) { replied <- struct{}{} }
			srv.Script("ec2:RunInstances", tc.reply)
			c := newClients(srv.URL)

			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			_, err := c.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"),
				MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String("token-1")})
			if err == nil {
				t.Fatal("the first call succeeded, want the failure")
			}
			if got := shapeOf(err).Code; got != tc.code {
				t.Errorf("the first call's error code %q, want %q (err %v)", got, tc.code, err)
			}
			<-replied // the endpoint has answered, or begun to, after acting
			want := 0
			if tc.acted {
				want = 1
			}
			if got := srv.Applied("ec2:RunInstances"); got != want {
				t.Errorf("after the failure Applied = %d, want %d", got, want)
			}

			// A retry with the same token: the instance the failed request
			// launched, or, if it launched none, the one launched now.
			launch{token: aws.String("token-1"), ids: []string{awsfake.InstanceID}, reservation: reservationID(0)}.run(t, c)
			if got := srv.Applied("ec2:RunInstances"); got != 1 {
				t.Errorf("after a retry with the same token Applied = %d, want 1", got)
			}
			// A retry with a new token, as a retry around the SDK's call
			// makes: a second instance.
			launch{token: aws.String("token-2"), ids: []string{instanceID(1)}, reservation: reservationID(1)}.run(t, c)
			if got := srv.Applied("ec2:RunInstances"); got != 2 {
				t.Errorf("after a retry with a new token Applied = %d, want 2", got)
			}
		})
	}
}

// TestDynamoDBActThenFail: a DynamoDB write that fails with a 500 after it
// applied is applied again by a retry, unless the retry carries the first
// request's ClientRequestToken.
func TestDynamoDBActThenFail(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   string
		// call makes the operation's call; for TransactWriteItems with
		// the same token each time.
		call    func(ctx context.Context, c awsfake.Clients) error
		applied int // after the failed call and a retry
	}{
		{"TransactWriteItems, same token", "dynamodb:TransactWriteItems", func(ctx context.Context, c awsfake.Clients) error {
			return transact(ctx, c, aws.String("token-1"), "1")
		}, 1},
		{"TransactWriteItems, new token", "dynamodb:TransactWriteItems", func(ctx context.Context, c awsfake.Clients) error {
			return c.Call(ctx, "dynamodb:TransactWriteItems")
		}, 2},
		{"UpdateItem", "dynamodb:UpdateItem", func(ctx context.Context, c awsfake.Clients) error {
			return c.Call(ctx, "dynamodb:UpdateItem")
		}, 2},
		{"PutItem", "dynamodb:PutItem", func(ctx context.Context, c awsfake.Clients) error {
			return c.Call(ctx, "dynamodb:PutItem")
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := awsfake.NewServer()
			defer srv.Close()
			srv.Script(tc.op, awsfake.Reply{Status: 500, Code: "InternalServerError", AfterActing: true})
			c := newClients(srv.URL)
			if err := tc.call(context.Background(), c); shapeOf(err).Code != "InternalServerError" {
				t.Fatalf("first call: %v, want InternalServerError", err)
			}
			if got := srv.Applied(tc.op); got != 1 {
				t.Errorf("after the failure Applied = %d, want 1", got)
			}
			if err := tc.call(context.Background(), c); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if got := srv.Applied(tc.op); got != tc.applied {
				t.Errorf("after the retry Applied = %d, want %d", got, tc.applied)
			}
		})
	}
}
