package awssdk

import (
	"context"
	"reflect"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"

	"github.com/awsretry/awsretry"
	"github.com/awsretry/awsretry/internal/bridge"
)

// InsideDo configures the clients of the aws.Config being loaded for calls
// made inside awsretry's Do, the Python decorator's way ("around the
// call"): each client makes one attempt per call (awsretry retries), and
// the idempotency tokens the SDK fills itself are pinned to the Do call
// (PinTokens), so that retrying a call that creates something cannot
// create it twice. The Retrier must be made with awsretry.WithScope:
//
//	r := awsretry.MustNew(awsretry.WithScope())
//	cfg, err := config.LoadDefaultConfig(ctx, awssdk.InsideDo())
//	client := ec2.NewFromConfig(cfg)
//	err = r.Do(ctx, func(ctx context.Context) error {
//		_, err := client.RunInstances(ctx, input) // one ClientToken for every attempt
//		return err
//	})
//
// The one attempt is the SDK's standard retryer's, so its clock-skew
// correction still applies to awsretry's next attempt. Outside a Do call
// of a Retrier made WithScope, the clients fill tokens as the SDK does.
func InsideDo() config.LoadOptionsFunc {
	return func(o *config.LoadOptions) error {
		o.RetryMaxAttempts = 1
		o.APIOptions = append(o.APIOptions, PinTokens)
		return nil
	}
}

// autoFillID is the ID of the middleware with which aws-sdk-go-v2 fills an
// operation's idempotency token (EC2's ClientToken, DynamoDB's
// ClientRequestToken, ...) when the caller left it empty: once per call,
// before the SDK's own retries, which resend it.
const autoFillID = "OperationIdempotencyTokenAutoFill"

// PinTokens is the API option (for aws.Config.APIOptions, or a client's or
// a call's Options.APIOptions) that pins the idempotency token the SDK
// fills itself to the Do call the operation is made in, when the Retrier
// was made WithScope: the token of a call is then the same in every attempt
// of the Do call, where the SDK would draw a new one for each.
//
// The token the SDK fills is the field its own auto-fill middleware fills,
// whichever field of the operation's input that is (no list of field names
// is kept here). A call's token depends on the Do call, the operation
// (service and name) and the call's position among the attempt's calls of
// that operation: in each attempt the first RunInstances gets one token,
// the second another, and so on. So an attempt that repeats the calls of
// the failed one, in the same order, repeats their tokens, and the service
// answers a repeat with its first result instead of acting again; if the
// attempt changes a call's parameters, the service refuses the token
// (EC2's IdempotentParameterMismatch, an error returned to the caller)
// rather than acting twice.
//
// Concurrent calls of one operation in one attempt take their positions in
// the order they reach the client, which may differ from one attempt to
// the next: no two of them share a token, and a repeat never acts twice,
// but two such calls with different parameters may swap tokens in the
// next attempt and fail with IdempotentParameterMismatch. Give each its
// own token instead (awsretry.Scope's Token, with a name per call): a
// token the caller set is left alone.
//
// The token is set in the input for the call only: the caller's input
// struct does not keep it (the SDK leaves the token it draws in the input,
// and an input reused for another, intended call would then repeat the
// first). An operation without a token is untouched, and outside a Do call
// of a Retrier made WithScope, the SDK fills tokens as it does.
func PinTokens(stack *middleware.Stack) error {
	m, ok := stack.Initialize.Get(autoFillID)
	if !ok {
		return nil // the operation takes no token
	}
	if _, pinned := m.(pin); pinned {
		return nil
	}
	_, err := stack.Initialize.Swap(autoFillID, pin{fill: m})
	return err
}

// pin wraps the SDK's auto-fill middleware of an operation.
type pin struct {
	fill middleware.InitializeMiddleware
}

func (p pin) ID() string { return autoFillID }

func (p pin) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	if _, ok := awsretry.ScopeFrom(ctx); !ok {
		return p.fill.HandleInitialize(ctx, in, next)
	}
	empty := emptyStrings(in.Parameters)
	return p.fill.HandleInitialize(ctx, in, middleware.InitializeHandlerFunc(func(ctx context.Context, in middleware.InitializeInput) (
		middleware.InitializeOutput, middleware.Metadata, error,
	) {
		field, ok := filled(empty)
		if !ok {
			return next.HandleInitialize(ctx, in) // the caller set the token
		}
		call := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
		token, ok := bridge.CallToken(ctx, call)
		if !ok {
			return next.HandleInitialize(ctx, in)
		}
		field.Set(reflect.ValueOf(&token))
		defer field.SetZero() // the caller's input does not keep it
		return next.HandleInitialize(ctx, in)
	}))
}

// emptyStrings returns the *string fields of the struct params points to
// that are nil: the fields the auto-fill middleware may fill.
func emptyStrings(params any) []reflect.Value {
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	var empty []reflect.Value
	for i := range v.NumField() {
		f := v.Field(i)
		if f.CanSet() && f.Type() == stringPointer && f.IsNil() {
			empty = append(empty, f)
		}
	}
	return empty
}

var stringPointer = reflect.TypeFor[*string]()

// filled returns the one field of empty that is no longer nil: the token
// the auto-fill middleware filled. It reports false when it filled none
// (the caller had set the token) or, which no SDK operation does, more
// than one.
func filled(empty []reflect.Value) (reflect.Value, bool) {
	var found reflect.Value
	for _, f := range empty {
		if f.IsNil() {
			continue
		}
		if found.IsValid() {
			return reflect.Value{}, false
		}
		found = f
	}
	return found, found.IsValid()
}
