package awssdk_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// loadOptions applies a configuration option, as config.LoadDefaultConfig
// does before it builds the aws.Config.
func loadOptions(opt config.LoadOptionsFunc) (config.LoadOptions, error) {
	var o config.LoadOptions
	err := opt(&o)
	return o, err
}
