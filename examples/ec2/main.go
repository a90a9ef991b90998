// Command ec2 shows awsretry riding out EC2's eventual consistency: the
// instance just launched is reported missing (InvalidInstanceID.NotFound)
// twice, then found. It needs no AWS account.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/smithy-go"

	"github.com/awsretry/awsretry"
)

func main() {
	delay := 200 * time.Millisecond
	r := awsretry.MustNew(awsretry.WithDelay(delay), awsretry.WithBackoff(1.5))
	start := time.Now()
	attempt := 0
	id, err := awsretry.DoValue(context.Background(), r, func(ctx context.Context) (string, error) {
		attempt++
		if attempt <= 2 {
			err := &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound",
				Message: "The instance ID 'i-0123456789abcdef0' does not exist"}
			fmt.Printf("%6.3fs attempt %d: %v\n", time.Since(start).Seconds(), attempt, err)
			return "", err
		}
		fmt.Printf("%6.3fs attempt %d: found\n", time.Since(start).Seconds(), attempt)
		return "i-0123456789abcdef0", nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("instance", id, "is running")
}
