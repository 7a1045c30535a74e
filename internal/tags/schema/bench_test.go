package schema

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trailbook/trailbook/internal/tags"
)

// BenchmarkCheck checks instances of ten tags against twenty YAML rules
// and ten AWS policy keys.
func BenchmarkCheck(b *testing.B) {
	var y strings.Builder
	y.WriteString("version: 1\nrules:\n")
	for i := range 20 {
		fmt.Fprintf(&y, "  - name: rule-%d\n    resources: [ec2:instance, \"rds:*\"]\n    regions: [us-east-1, \"eu-*\"]\n    tagged: true\n", i)
		fmt.Fprintf(&y, "    require: [Environment, Owner]\n    keys:\n      Environment: {values: [Production, Staging, \"Dev*\"]}\n")
		fmt.Fprintf(&y, "      Owner: {regex: '^[a-z]+@example\\.com$'}\n      Key%d: {values: [a, b, c]}\n", i)
	}
	var p strings.Builder
	p.WriteString(`{"tags": {`)
	for i := range 10 {
		if i > 0 {
			p.WriteString(",")
		}
		fmt.Fprintf(&p, `"policy%d": {"tag_key": {"@@assign": "Policy%d"}, "tag_value": {"@@assign": ["1*", "2*", "x"]}, "enforced_for": {"@@assign": ["ec2:ALL_SUPPORTED"]}}`, i, i)
	}
	p.WriteString("}}")
	s, err := Load([]File{{Name: "b.yml", Data: []byte(y.String())}, {Name: "p.json", Data: []byte(p.String())}})
	if err != nil {
		b.Fatal(err)
	}
	r := Resource{ARN: "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0"}
	for i := range 8 {
		r.Tags = append(r.Tags, tags.Tag{Key: fmt.Sprintf("Tag%d", i), Value: "v"})
	}
	r.Tags = append(r.Tags, tags.Tag{Key: "Environment", Value: "Production"}, tags.Tag{Key: "Policy3", Value: "150"})
	compliant := r
	compliant.Tags = append(compliant.Tags[:len(compliant.Tags):len(compliant.Tags)], tags.Tag{Key: "Owner", Value: "ana@example.com"})
	for _, c := range []struct {
		name string
		r    Resource
		want int
	}{
		{"compliant", compliant, 0},
		{"missing-owner", r, 20},
	} {
		b.Run(c.name, func(b *testing.B) {
			if vs := s.Check(c.r); len(vs) != c.want {
				b.Fatalf("%d violations, want %d: %v", len(vs), c.want, vs)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Check(c.r)
			}
		})
	}
}
