module github.com/awsretry/awsretry

go 1.25.0

require (
	github.com/aws/smithy-go v1.28.9
	github.com/benbjohnson/clock v1.3.5
)
