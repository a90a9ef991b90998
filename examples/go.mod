module github.com/awsretry/awsretry/examples

go 1.25.0

require (
	github.com/aws/smithy-go v1.28.9
	github.com/awsretry/awsretry v0.0.0
)

require github.com/benbjohnson/clock v1.3.5 // indirect

replace github.com/awsretry/awsretry => ../
