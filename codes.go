package awsretry

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// The AWS error codes the default classifier knows, and the NotFound rule.

// pythonCodes are the error codes the Python awsretry retried, with their
// class.
var pythonCodes = map[string]Class{
	"RequestLimitExceeded":     ClassThrottle,
	"Unavailable":              ClassTransient,
	"ServiceUnavailable":       ClassTransient,
	"InternalFailure":          ClassTransient,
	"InternalError":            ClassTransient,
	"LimitExceededException":   ClassThrottle,
	"TooManyRequestsException": ClassThrottle,
	"ThrottlingException":      ClassThrottle,
}

// sdkThrottleCodes are aws-sdk-go-v2's retry.DefaultThrottleErrorCodes.
var sdkThrottleCodes = []string{
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
	"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
}

// sdkTransientCodes are aws-sdk-go-v2's retry.DefaultRetryableErrorCodes.
var sdkTransientCodes = []string{"RequestTimeout", "RequestTimeoutException"}

// codeClasses maps every default retryable code to its class.
var codeClasses = func() map[string]Class {
	m := make(map[string]Class, len(pythonCodes)+len(sdkThrottleCodes)+len(sdkTransientCodes))
	for code, class := range pythonCodes {
		m[code] = class
	}
	for _, code := range sdkThrottleCodes {
		m[code] = ClassThrottle
	}
	for _, code := range sdkTransientCodes {
		m[code] = ClassTransient
	}
	return m
}()

// clientFaultCodes are frequent AWS error codes that are never worth a retry
// (the request itself is wrong, or not allowed). They are "known": an HTTP
// 5xx status does not make them retryable, and metrics report them by name.
var clientFaultCodes = []string{
	"AccessDenied", "AccessDeniedException", "AuthFailure", "UnauthorizedOperation",
	"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
	"SignatureDoesNotMatch", "ValidationException", "ValidationError", "InvalidParameterValue",
	"InvalidParameterCombination", "MissingParameter", "DryRunOperation", "IncorrectState",
	"ConditionalCheckFailedException", "ConflictException", "ResourceInUseException",
	"NotFound", "NoSuchKey", "NoSuchBucket", "InvalidInstanceID.Malformed",
}

// defaultStatuses are the HTTP statuses retried when the error has no known
// code, as aws-sdk-go-v2's retry.DefaultRetryableHTTPStatusCodes.
var defaultStatuses = []int{500, 502, 503, 504}

// defaultCodes returns the error codes retried by default, sorted: the
// Python awsretry's eight (RequestLimitExceeded, Unavailable,
// ServiceUnavailable, InternalFailure, InternalError, LimitExceededException,
// TooManyRequestsException, ThrottlingException), aws-sdk-go-v2's fourteen
// throttling codes (which include Throttling, SlowDown and
// ProvisionedThroughputExceededException) and its transient codes
// RequestTimeout and RequestTimeoutException.
func defaultCodes() []string {
	codes := make([]string, 0, len(codeClasses))
	for code := range codeClasses {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return codes
}

// clientFaultSet holds clientFaultCodes.
var clientFaultSet = func() map[string]struct{} {
	set := make(map[string]struct{}, len(clientFaultCodes))
	for _, code := range clientFaultCodes {
		set[code] = struct{}{}
	}
	return set
}()

// isClientFault reports whether code is a known client fault.
func isClientFault(code string) bool {
	_, ok := clientFaultSet[code]
	return ok
}

// matchesNotFound reports whether Python's re.search(r'^\w+.NotFound', code)
// would match (with ASCII word characters): a run of at least one word
// character, one more character that is not a newline, then "NotFound".
func matchesNotFound(code string) bool {
	word := 0
	for word < len(code) && isWordChar(code[word]) {
		word++
	}
	if word == 0 {
		return false
	}
	// The dot is either a word character of the run (the run's end
	// backtracks), so "NotFound" starts at some i in [2, word], or the
	// character right after the run.
	for i := 2; i <= word; i++ {
		if strings.HasPrefix(code[i:], "NotFound") {
			return true
		}
	}
	r, size := utf8.DecodeRuneInString(code[word:])
	return size > 0 && r != '\n' && strings.HasPrefix(code[word+size:], "NotFound")
}

func isWordChar(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// notFoundCodes are frequent eventual-consistency codes.
var notFoundCodes = []string{
	"ResourceNotFoundException", "InvalidInstanceID.NotFound", "InvalidVolume.NotFound",
	"InvalidGroup.NotFound", "InvalidAMIID.NotFound", "InvalidSubnetID.NotFound",
	"InvalidVpcID.NotFound", "InvalidSnapshot.NotFound", "InvalidNetworkInterfaceID.NotFound",
}

// commonCodes holds the codes every Retrier's metrics report by name: the
// default retryable codes, the known client faults and notFoundCodes.
var commonCodes = func() map[string]struct{} {
	set := make(map[string]struct{})
	for _, code := range slices.Concat(defaultCodes(), clientFaultCodes, notFoundCodes) {
		set[code] = struct{}{}
	}
	return set
}()
