// Package benchmarks measures awsretry against its peers and against
// itself. It is a module of its own, so that the peer libraries, the AWS
// SDK, the OpenTelemetry SDK and the plotting library never enter the
// requirements of github.com/awsretry/awsretry.
//
// The benchmarks live in the test files of this package:
//
//   - BenchmarkOverhead: the same three operations (first-try success,
//     three failures then success, exhaustion after 10 attempts) in
//     awsretry and in cenkalti/backoff/v5, avast/retry-go/v4,
//     sethvargo/go-retry, failsafe-go and the retry decisions of
//     aws-sdk-go-v2's Standard retryer.
//   - BenchmarkTestSpeed and TestSynctestSpeed: the seed's default schedule
//     run to exhaustion under each kind of test clock.
//
// Package contention simulates Brooker's contention experiment, package
// report turns the results into RESULTS.md and the chart, and run.sh runs
// all of it.
package benchmarks
