// Package sdkretry checks awsretry's default classifier against
// aws-sdk-go-v2's own retry decisions, on the SDK's own test inputs.
//
// The package has no API; it is a test. TestAgreesWithSDK reads the case
// tables of the SDK's retry tests (TestRetryConnectionErrors,
// TestDefaultRetryables_HTTPStatusCode429, TestWrapAsClockSkew, ...) live
// from the source of the aws-sdk-go-v2 module this module requires, builds
// each case's error exactly as the SDK test does (with the SDK's unexported
// mock error types), and asks of every error both
//
//   - the SDK: retry.IsErrorRetryables(retry.DefaultRetryables),
//     retry.IsErrorThrottles(retry.DefaultThrottles) and
//     retry.IsErrorTimeouts(retry.DefaultTimeouts); and
//   - awsretry.DefaultClassifier().Classify.
//
// To build the errors it copies the SDK module into a temporary directory,
// adds a generated test file to the copy's aws/retry package (the case
// tables, copied verbatim, and a test that prints both verdicts of every case
// as JSON), and runs that test with the go command in a temporary module
// that replaces the SDK with the copy and awsretry with the awsretry this
// module uses. Only the module proxy (normally the module cache) is used.
//
// The test logs a table of every case with both verdicts and a summary
// ("agree N of M") per SDK test function, and fails for each disagreement
// that is not listed, with its reason, in the deliberate map. The rule is the
// function agree. Run it with
//
//	cd examples && go test -run SDK -v ./sdkretry
package sdkretry
