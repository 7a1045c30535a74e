// Package awsact carries out the AWS actions of runbook plans (tag,
// revert-tags, quarantine), releases quarantines and publishes SNS
// messages, through aws-sdk-go-v2.
//
// # Loop protection
//
// Every request carries trailbook/VERSION in its User-Agent
// (UserAgentProduct), which CloudTrail records as the event's userAgent;
// Trailbook ignores events whose userAgent contains it, so that its own
// actions do not trigger runbooks again.
//
// # Dry runs
//
// An action that is not enforced makes no AWS request at all: its Outcome
// is planned, and its Detail lists, in order, the exact calls an enforced
// run would make, with their arguments (tags, policy documents). The same
// action always gives the same calls in the same order: tag keys are
// sorted, keys to remove are sorted and deduplicated.
//
// # Tags (tag, revert-tags)
//
// A tag change on an ARN sets Tags.Set, then removes Tags.Remove; an empty
// one is skipped, and with both empty nothing is called (skipped). The API
// depends on the ARN:
//
//   - EC2 (arn:PARTITION:ec2:REGION:ACCOUNT:TYPE/ID: instance, volume,
//     security-group, vpc, subnet, snapshot, image, network-interface, ...):
//     ec2:CreateTags and ec2:DeleteTags on ID, in the ARN's region.
//     DeleteTags names keys only, so a tag is removed whatever its value.
//   - IAM roles and users (arn:aws:iam::ACCOUNT:role/PATH/NAME,
//     user/PATH/NAME): iam:TagRole and iam:UntagRole, or iam:TagUser and
//     iam:UntagUser, on NAME (the path is dropped).
//   - Anything else: tag:TagResources and tag:UntagResources (Resource
//     Groups Tagging API) on the ARN, in the ARN's region; for ARNs without
//     one (S3 buckets), in the action's Region (the awsRegion of the event
//     the runbook answered), or else the configured region. A resource
//     AWS lists in FailedResourcesMap fails the action with its ARN, error
//     code and message.
//
// # Quarantine
//
// A quarantine isolates one resource, by its type; any other type fails
// without a request.
//
//   - EC2 instance (arn:...:ec2:REGION:ACCOUNT:instance/ID):
//     ec2:DescribeInstances on ID to read its security groups, then
//     ec2:ModifyInstanceAttribute making Quarantine.IsolationGroup its only
//     group (required). EC2 does this for instances with one network
//     interface; for an instance with several it refuses the call
//     (InvalidInstanceID), and the quarantine fails having changed
//     nothing. Undo: {"groups":["sg-...",...]}, the groups it had, in
//     order.
//   - IAM role or user: iam:GetRolePolicy (GetUserPolicy) for the inline
//     policy named Options.PolicyName (default "trailbook-quarantine"), then
//     iam:PutRolePolicy (PutUserPolicy) of that name with
//     {"Version":"2012-10-17","Statement":[{"Sid":"TrailbookQuarantine",
//     "Effect":"Deny","Action":"*","Resource":"*"}]}. An explicit deny wins
//     over every allow, so the principal can do nothing; sessions already
//     issued are denied too. Undo: {"policy_name":NAME,"previous":DOC},
//     DOC being the policy of that name it replaced, or null.
//   - S3 bucket (arn:aws:s3:::NAME): s3:GetBucketPolicy (none is fine), then
//     s3:PutBucketPolicy with one statement, Sid TrailbookQuarantine, that
//     denies s3:* on arn:aws:s3:::NAME and arn:aws:s3:::NAME/* to Principal
//     "*", except, when Quarantine.BreakGlass is not empty, the principals
//     it lists (Condition ArnNotLike aws:PrincipalArn, sorted). The
//     previous bucket policy is replaced, not merged. Undo: {"policy":DOC},
//     the bucket policy it replaced, or null. List the principal Trailbook
//     runs as in BreakGlass, or the quarantine denies Trailbook's own
//     release too (the account root can always delete a bucket policy).
//     S3 requests go to the action's Region, or else the configured one.
//
// With Quarantine.Tag, the resource is then tagged as above with
// quarantine=true, quarantined-by=trailbook and quarantine-reason=REASON,
// REASON being the action's Reason with characters IAM does not allow in
// tag values (anything but letters, digits, spaces and _ . : / = + - @)
// and runs of spaces made one space, cut to 256 characters.
//
// The calls are made in the order above and stop at the first failure.
// Once the resource was changed, the Outcome carries Undo even when a
// later call (tagging) failed.
//
// # Release
//
// Executor.Release restores what an Undo recorded (policy documents come
// back as the same JSON, compacted): ec2:ModifyInstanceAttribute
// back to the recorded groups; iam:PutRolePolicy (PutUserPolicy) of the
// previous document, or iam:DeleteRolePolicy (DeleteUserPolicy) when there
// was none (already gone is fine); s3:PutBucketPolicy of the previous
// policy, or s3:DeleteBucketPolicy when there was none. With
// Quarantine.Tag it then removes the quarantine, quarantined-by and
// quarantine-reason tags.
//
// # SNS
//
// Executor.Publish calls sns:Publish on the topic, in the topic ARN's
// region.
//
// Details and errors name APIs, resources, tags and policy documents;
// they never include credentials.
package awsact
