package awsact

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
)

// UserAgentProduct is the product token Trailbook adds to the User-Agent
// of every AWS request it makes, as UserAgentProduct/VERSION. CloudTrail
// records the header as the event's userAgent, which is how Trailbook
// recognises, and ignores, events its own actions caused.
const UserAgentProduct = "trailbook"

// userAgentMarker is the ID of a no-op build middleware that records that
// the Trailbook product token is on a stack already, so that a client
// built from a config LoadConfig made does not add it twice.
const userAgentMarker = "TrailbookUserAgent"

// LoadConfig loads the AWS configuration through the SDK's standard chain
// (environment, shared config and credentials files, SSO, web identity,
// container and instance roles), in region when it is not empty, and adds
// the Trailbook user agent to every request.
//
// A non-empty endpoint (http://127.0.0.1:PORT) overrides the endpoint of
// every service, for tests and AWS-compatible stand-ins. aws.Config has no
// S3 addressing setting: clients that New builds use path-style S3
// requests whenever BaseEndpoint is set, and other S3 clients built from
// this config must set s3.Options.UsePathStyle themselves.
//
// Credentials are resolved lazily, on the first request.
func LoadConfig(ctx context.Context, region, endpoint string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), addUserAgent)
	return cfg, nil
}

// addUserAgent adds UserAgentProduct/version to a request's User-Agent,
// once per stack.
func addUserAgent(stack *middleware.Stack) error {
	if _, ok := stack.Build.Get(userAgentMarker); ok {
		return nil
	}
	if err := awsmiddleware.AddUserAgentKeyValue(UserAgentProduct, version())(stack); err != nil {
		return fmt.Errorf("add user agent: %w", err)
	}
	marker := middleware.BuildMiddlewareFunc(userAgentMarker, func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
		return next.HandleBuild(ctx, in)
	})
	return stack.Build.Add(marker, middleware.After)
}

// version is Trailbook's version as the Go toolchain stamped it in the
// binary: the main module's version, or "dev" for a build from a work
// tree.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" || info.Main.Version == "(devel)" {
		return "dev"
	}
	return info.Main.Version
}
