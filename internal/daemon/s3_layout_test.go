package daemon

import "testing"

func TestLocate(t *testing.T) {
	for _, c := range []struct {
		folder string
		at     place
		root   string
	}{
		{"", outside, ""},
		{"manual/", outside, ""},
		{"AWSLogs/", above, ""},
		{"trails/prod/AWSLogs/", above, ""},
		{"AWSLogs/111122223333/", above, ""},
		{"AWSLogs/o-a1b2c3d4e5/", above, ""},
		{"AWSLogs/o-a1b2c3d4e5/111122223333/", above, ""},
		{"AWSLogs/111122223333/CloudTrail/", above, ""},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/", inStream, "AWSLogs/111122223333/CloudTrail/us-east-1/"},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/", inStream, "AWSLogs/111122223333/CloudTrail/us-east-1/"},
		{"AWSLogs/111122223333/CloudTrail-Insight/us-east-1/", inStream, "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/"},
		{"x/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2024/", inStream, "x/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/"},
		{"AWSLogs/111122223333/CloudTrail-Digest/", foreign, ""},
		{"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/", foreign, ""},
		{"AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/", foreign, ""},
		{"AWSLogs/111122223333/Config/", foreign, ""},
		{"AWSLogs/111122223333/vpcflowlogs/us-east-1/", foreign, ""},
		{"AWSLogs/not-an-account/", outside, ""},
		{"AWSLogs/o-short/", outside, ""},
		// A key or a partial prefix is placed by its folder.
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/f.json.gz", inStream, "AWSLogs/111122223333/CloudTrail/us-east-1/"},
		{"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz", foreign, ""},
		{"AWSLogs/111122223333/Cloud", above, ""},
		{"manual/extra.json", outside, ""},
		{"extra.json", outside, ""},
	} {
		at, root := locate(c.folder)
		if at != c.at || root != c.root {
			t.Errorf("locate(%q) = %v %q, want %v %q", c.folder, at, root, c.at, c.root)
		}
	}
}

func TestTakeKey(t *testing.T) {
	for key, want := range map[string]bool{
		"AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1205Z_a.json.gz":            true,
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_x.json.gz": false,
		"AWSLogs/111122223333/Config/us-east-1/2024/5/1/ConfigHistory/x.json.gz":                                                     false,
		"manual/extra.json": true,
		"notes.txt":         true,
		"AWSLogs/111122223333/CloudTrail/us-east-1/2024/": false, // a folder marker
		"": false,
	} {
		if got := takeKey(key); got != want {
			t.Errorf("takeKey(%q) = %v", key, got)
		}
	}
}

func TestStartAfter(t *testing.T) {
	const root = "AWSLogs/111122223333/CloudTrail/us-east-1/"
	for _, c := range []struct{ newest, want string }{
		{"", ""},
		// Late in the day: the day itself.
		{root + "2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1205Z_a.json.gz", root + "2024/05/01/"},
		// Within s3Lookback of midnight: the day before too.
		{root + "2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0035Z_a.json.gz", root + "2024/04/30/"},
		// Across a month.
		{root + "2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0000Z_a.json.gz", root + "2024/04/30/"},
		// A name time later than its folder: the folder.
		{root + "2024/05/01/111122223333_CloudTrail_us-east-1_20240502T1205Z_a.json.gz", root + "2024/05/01/"},
		// No time in the name: a day back.
		{root + "2024/05/01/copied.json", root + "2024/04/30/"},
		// Not dated: the whole stream.
		{root + "misc/copied.json", ""},
	} {
		if got := startAfter(root, c.newest); got != c.want {
			t.Errorf("startAfter(%q) = %q, want %q", c.newest, got, c.want)
		}
	}
}
