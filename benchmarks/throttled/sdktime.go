package throttled

import (
	"context"
	"time"
	_ "unsafe" // for go:linkname

	_ "github.com/aws/aws-sdk-go-v2/aws/retry" // links the package below
)

// sdkSleepWithContext is aws-sdk-go-v2's internal sdk.SleepWithContext,
// the variable its retry middleware and adaptive mode sleep through, which
// the SDK keeps overridable for tests.
//
//go:linkname sdkSleepWithContext github.com/aws/aws-sdk-go-v2/internal/sdk.SleepWithContext
var sdkSleepWithContext func(context.Context, time.Duration) error

// The SDK's adaptive mode waits for a send token for (cost - tokens) /
// rate, truncated to whole nanoseconds. After a wait that ends exactly on
// time, as in virtual time, the bucket lacks a fraction of a nanosecond's
// refill, the next wait truncates to 0, and the mode spins on zero-length
// sleeps while the bubble's clock cannot move: it never ends. A real sleep
// always takes some time. So the SDK's sleeps here take at least a
// nanosecond; every other wait is as the SDK asks.
//
// The SDK sleeps on a timer and a select on the context; here a sleep is
// time.Sleep, cut short at the context's deadline with the context's
// error. The simulation's contexts end only at their deadline, so the two
// are the same wait, and time.Sleep is cheaper: at 5C the SDK's adaptive
// mode keeps thousands of calls waiting, each woken for every token, and
// with the SDK's own sleep the sweep took more than twice as long.
func init() {
	sdkSleepWithContext = func(ctx context.Context, d time.Duration) error {
		d = max(d, time.Nanosecond)
		if deadline, ok := ctx.Deadline(); ok {
			if left := time.Until(deadline); left < d {
				time.Sleep(left)
				return context.DeadlineExceeded
			}
		}
		time.Sleep(d)
		return ctx.Err()
	}
}
