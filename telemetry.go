package awsretry

// ScopeName is the instrumentation scope name of this library: its import
// path. The tracer and the meter that record retries will carry it.
const ScopeName = "github.com/awsretry/awsretry"
