package render

import (
	"io"
	"testing"
)

// benchSetup makes 100k CloudTrail-like events: a nested identity, request
// parameters, a resource list and the usual strings.
const benchSetup = `
CREATE TABLE events AS
SELECT
	TIMESTAMP '2023-07-10 00:00:00' + to_microseconds(i * 1234567) AS eventTime,
	['s3.amazonaws.com', 'iam.amazonaws.com', 'ec2.amazonaws.com', 'sts.amazonaws.com'][i % 4 + 1] AS eventSource,
	['GetObject', 'PutObject', 'AssumeRole', 'DescribeInstances', 'CreateUser'][i % 5 + 1] AS eventName,
	['us-east-1', 'eu-west-1'][i % 2 + 1] AS awsRegion,
	'10.0.' || (i % 256) || '.' || (i % 199) AS sourceIPAddress,
	{'type': 'AssumedRole',
	 'arn': 'arn:aws:sts::111122223333:assumed-role/Role' || (i % 17) || '/session-' || i,
	 'accountId': '111122223333',
	 'sessionContext': {'attributes': {'creationDate': TIMESTAMP '2023-07-09 23:00:00', 'mfaAuthenticated': 'false'}}} AS userIdentity,
	'aws-cli/2.13.0 Python/3.11.4 Linux/6.1 exe/x86_64.ubuntu.22 prompt/off command/s3.cp' AS userAgent,
	CASE WHEN i % 10 = 0 THEN 'AccessDenied' END AS errorCode,
	MAP {'bucketName': 'bucket-' || (i % 31), 'key': 'logs/2023/07/10/object-' || i || '.json.gz', 'Host': 'bucket.s3.amazonaws.com'} AS requestParameters,
	uuid() AS eventID,
	i % 3 = 0 AS readOnly,
	[{'accountId': '111122223333', 'type': 'AWS::S3::Object', 'arn': 'arn:aws:s3:::bucket/logs/object-' || i}] AS resources
FROM range(100000) r(i);
`

const benchQuery = `SELECT * FROM events`

func BenchmarkWrite(b *testing.B) {
	db := openDB(b, benchSetup)
	// scan is the floor: the query and database/sql's Scan without output.
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			rows, err := db.Query(benchQuery)
			if err != nil {
				b.Fatal(err)
			}
			rs, err := newResult(rows)
			if err != nil {
				b.Fatal(err)
			}
			for {
				ok, err := rs.next()
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					break
				}
			}
			rows.Close()
		}
		b.ReportMetric(float64(b.N)*100000/b.Elapsed().Seconds(), "rows/s")
	})
	for _, f := range []Format{CSV, JSON} {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				rows, err := db.Query(benchQuery)
				if err != nil {
					b.Fatal(err)
				}
				n, err := Write(io.Discard, f, rows)
				if err != nil || n != 100000 {
					b.Fatalf("wrote %d rows: %v", n, err)
				}
				rows.Close()
			}
			b.ReportMetric(float64(b.N)*100000/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
