package schema

import "testing"

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"Production", "Production", true},
		{"Production", "production", false},
		{"1*", "1", true},
		{"1*", "1234", true},
		{"1*", "2100", false},
		{"*@example.com", "ana@example.com", true},
		{"*@example.com", "ana@example.org", false},
		{"team-*-ops", "team-db-ops", true},
		{"team-*-ops", "team--ops", true},
		{"team-*-ops", "team-ops", false}, // prefix and suffix may not share the '-'
		{"*", "", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "acb", false},
		{"a*bb*bc", "abbbc", true}, // a, bb, bc and two empty stars
		{"a*bb*bc", "abbc", false}, // bb and bc may not share a b
		{"a*bb*bc", "abbxbc", true},
		{"arn:aws:s3:::scratch-*", "arn:aws:s3:::scratch-1", true},
		{"arn:aws:s3:::scratch-*", "arn:aws:s3:::logs", false},
	} {
		if got := newGlob(c.pattern).match(c.s); got != c.want {
			t.Errorf("%q matches %q: got %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestTypeSet(t *testing.T) {
	var ts typeSet
	for _, p := range []string{"ec2:instance", "rds:ALL_SUPPORTED", "s3:*"} {
		service, typ, err := splitType(p, true)
		if err != nil {
			t.Fatal(err)
		}
		ts.add(service, typ)
	}
	for typ, want := range map[string]bool{
		"ec2:instance": true, "ec2:volume": false, "rds:db": true, "s3:bucket": true,
		"s3object:x": false, "": false, "ec2": false,
	} {
		if got := ts.match(typ); got != want {
			t.Errorf("%q: got %v, want %v", typ, got, want)
		}
	}
	for _, bad := range []string{"*", "*:instance", "ec2:", ":instance", "ec2:inst*", "EC2:instance", "ec2"} {
		if _, _, err := splitType(bad, true); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, _, err := splitType("ec2:ALL_SUPPORTED", false); err != nil {
		t.Errorf("ALL_SUPPORTED is a valid type name outside tag policies: %v", err)
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("ab\né€x\n\nz")
	for _, c := range []struct{ off, line, col int }{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {5, 2, 2}, {8, 2, 3}, {9, 2, 4}, {10, 3, 1}, {11, 4, 1}, {99, 4, 2},
	} {
		if line, col := lineCol(data, c.off); line != c.line || col != c.col {
			t.Errorf("offset %d: got %d:%d, want %d:%d", c.off, line, col, c.line, c.col)
		}
	}
}
