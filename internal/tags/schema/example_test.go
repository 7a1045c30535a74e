package schema_test

import (
	"fmt"

	"github.com/trailbook/trailbook/internal/tags"
	"github.com/trailbook/trailbook/internal/tags/schema"
)

func Example() {
	s, err := schema.Load([]schema.File{
		{Name: "tagging.yml", Data: []byte(`
version: 1
rules:
  - name: instances
    resources: [ec2:instance]
    require: [Environment, Owner]
    keys:
      Environment: {values: [Production, Staging]}
`)},
		{Name: "costcenter.json", Data: []byte(`{"tags": {"costcenter": {
    "tag_key": {"@@assign": "CostCenter"},
    "tag_value": {"@@assign": ["100", "200*"]}}}}`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range s.Check(schema.Resource{
		ARN:  "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0",
		Tags: []tags.Tag{{Key: "Environment", Value: "prod"}, {Key: "costcenter", Value: "300"}},
	}) {
		fmt.Printf("%s (%s): %s\n", v.Code, v.Rule, v.Message)
	}
	// Output:
	// missing-key (tagging.yml:4: instances): required key Owner is missing
	// value-not-allowed (costcenter.json:3: costcenter): costcenter="300" is not one of 100, 200*
	// value-not-allowed (tagging.yml:4: instances): Environment="prod" is not one of Production, Staging
	// wrong-key-case (costcenter.json:2: costcenter): key costcenter should be spelled CostCenter
}

func ExampleLoad_errors() {
	_, err := schema.Load([]schema.File{{Name: "bad.yml", Data: []byte(`version: 1
rules:
  - name: owners
    require: [Owner]
    keys:
      Owner: {regex: '^[a-z+@example\.com$'}
    severity: high
`)}})
	fmt.Println(err)
	// Output:
	// bad.yml:6:22: bad-regex: regex "^[a-z+@example\\.com$" of key "Owner": missing closing ]
	// bad.yml:7:5: unknown-key: unknown key "severity" in a rule; want name, resources, accounts, regions, exclude, tagged, require, keys, case or grace
}
