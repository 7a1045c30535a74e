package runbook

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"text/template"
	"time"
)

// loadGood loads testdata/good as a folder.
func loadGood(t *testing.T) *Set {
	t.Helper()
	set, err := LoadDir(context.Background(), "testdata/good", Options{Conn: newConn(t)})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func render(t *testing.T, tm *template.Template, data map[string]any) string {
	t.Helper()
	if tm == nil {
		t.Fatal("no template")
	}
	var b strings.Builder
	if err := tm.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func eval(t *testing.T, e *Expr, vars map[string]any) any {
	t.Helper()
	if e == nil {
		t.Fatal("no expression")
	}
	v, _, err := e.Program.Eval(vars)
	if err != nil {
		t.Fatalf("%s: %v", e.Source, err)
	}
	return v.Value()
}

func decode(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGood: the good folder loads, and each field holds what its file
// says.
func TestGood(t *testing.T) {
	set := loadGood(t)
	var names []string
	for _, r := range set.Runbooks {
		names = append(names, r.Name)
	}
	if want := []string{"key-created", "nightly-untagged", "tag-guard"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("runbooks %v, want %v", names, want)
	}
	if set.Env == nil || set.Runbook("tag-guard") != set.Runbooks[2] || set.Runbook("nope") != nil {
		t.Errorf("Env %v, or Runbook finds the wrong one", set.Env)
	}
	if len(set.Channels) != 3 || set.Channels[0].Name != "secops-webhook" || *set.Channels[0].Retries != 5 ||
		set.Channels[0].Backoff != time.Second || set.Channels[0].HeadersEnv["Authorization"] != "SECOPS_WEBHOOK_AUTH" ||
		set.Channels[2].Topic != "arn:aws:sns:us-east-1:111122223333:trailbook-alerts" {
		t.Errorf("channels %+v", set.Channels)
	}

	t.Run("tag-guard", func(t *testing.T) { checkTagGuard(t, set.Runbook("tag-guard")) })
	t.Run("key-created", func(t *testing.T) { checkKeyCreated(t, set.Runbook("key-created")) })
	t.Run("nightly", func(t *testing.T) { checkNightly(t, set.Runbook("nightly-untagged")) })
}

func checkTagGuard(t *testing.T, r *Runbook) {
	if r.File != "testdata/good/tag-guard.yaml" || r.Pos != (Pos{r.File, 2, 1}) || r.Severity != "critical" || r.Mode != Enforce ||
		r.Owner != "platform-security" || r.Description != "Production tags changed outside the provisioning role" {
		t.Errorf("head %+v", r)
	}
	const pattern = `{"errorCode":[{"exists":false}],"eventName":["CreateTags","DeleteTags"],"eventSource":["ec2.amazonaws.com"],"readOnly":[false]}`
	if r.Trigger.Pattern != pattern || r.Trigger.Envelope || r.Trigger.Schedule != 0 || r.Trigger.Pos != (Pos{r.File, 9, 5}) {
		t.Errorf("trigger %+v", r.Trigger)
	}
	var params []string
	for _, p := range r.Params {
		params = append(params, p.Name)
	}
	if !reflect.DeepEqual(params, []string{"arn", "actor", "label"}) {
		t.Errorf("params %v", params)
	}
	if !reflect.DeepEqual(r.QueryParams, []string{"event_id", "arn", "event_time", "now"}) || r.QueryPos != (Pos{r.File, 19, 3}) ||
		!strings.HasPrefix(r.Query, "-- the production") || !strings.Contains(r.QuerySQL, "$4") {
		t.Errorf("query %+v %v\n%s", r.QueryPos, r.QueryParams, r.QuerySQL)
	}

	event := map[string]any{"awsRegion": "us-east-1", "recipientAccountId": "111122223333", "eventName": "DeleteTags",
		"userIdentity":      map[string]any{"arn": "arn:aws:iam::111122223333:user/alice"},
		"requestParameters": map[string]any{"resourcesSet": map[string]any{"items": []any{map[string]any{"resourceId": "i-0abc"}}}}}
	vars := map[string]any{"event": event, "params": map[string]any{}, "rows": []any{}, "now": time.Now(), "runbook": r.Vars()}
	p := vars["params"].(map[string]any)
	for _, param := range r.Params {
		p[param.Name] = eval(t, param.Expr, vars)
	}
	if p["label"] != "arn:aws:iam::111122223333:user/alice on arn:aws:ec2:us-east-1:111122223333:instance/i-0abc" {
		t.Errorf("params gave %v", p)
	}
	if eval(t, r.Condition, vars) != false {
		t.Error("the condition holds without rows")
	}
	vars["rows"] = []any{map[string]any{"arn": "arn:x", "key": "Environment", "value": "Production"}}
	if eval(t, r.Condition, vars) != true || r.Condition.Pos != (Pos{r.File, 30, 3}) {
		t.Errorf("the condition %q at %v does not hold with a production row", r.Condition.Source, r.Condition.Pos)
	}

	if len(r.Actions) != 3 {
		t.Fatalf("%d actions", len(r.Actions))
	}
	a := r.Actions[0]
	if a.Kind != "alert" || a.Pos != (Pos{r.File, 33, 5}) || a.When != nil || !reflect.DeepEqual(a.Alert.To, []string{"secops-webhook", "stdout"}) {
		t.Errorf("alert %+v", a)
	}
	data := map[string]any{"event": event, "params": p, "rows": vars["rows"], "runbook": r.Vars()}
	if got := render(t, a.Alert.Title, data); got != "Production tags changed by arn:aws:iam::111122223333:user/alice" {
		t.Errorf("title %q", got)
	}
	if got, want := render(t, a.Alert.Text, data), "DeleteTags on arn:x \nby platform-security's watch (\"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc\")\n"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	if a := r.Actions[1]; a.Kind != "revert-tags" || !reflect.DeepEqual(a.RevertTags.Keys, []string{"Environment", "Owner"}) {
		t.Errorf("revert-tags %+v", a)
	}
	a = r.Actions[2]
	if a.Kind != "tag" || a.When == nil || eval(t, a.When, vars) != true || !reflect.DeepEqual(a.Tag.Remove, []string{"Temporary"}) ||
		len(a.Tag.Set) != 2 || render(t, a.Tag.Set["reverted-by"], data) != "tag-guard" || render(t, a.Tag.Set["trailbook-reverted"], data) != "true" {
		t.Errorf("tag %+v", a.Tag)
	}
	v, _, err := a.Tag.ARNs.Program.Eval(vars)
	if err != nil {
		t.Fatal(err)
	}
	if arns, err := v.ConvertToNative(reflect.TypeFor[[]string]()); err != nil || !reflect.DeepEqual(arns, []string{"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"}) {
		t.Errorf("arns gave %#v", arns)
	}
	if r.Cooldown != 90*time.Minute || r.Dedup == nil || eval(t, r.Dedup, vars) != p["arn"] {
		t.Errorf("cooldown %v, dedup %v", r.Cooldown, r.Dedup)
	}

	if len(r.Tests) != 2 {
		t.Fatalf("%d tests", len(r.Tests))
	}
	tc := r.Tests[0]
	if tc.Name != "alice drops Environment from a production instance" || len(tc.Given) != 3 ||
		!tc.Now.Equal(time.Date(2024, 5, 1, 12, 0, 30, 0, time.UTC)) || tc.Pos != (Pos{r.File, 48, 5}) {
		t.Errorf("test %+v", tc)
	}
	if got := decode(t, tc.Given[1])["eventID"]; got != "prod-tag-1" {
		t.Errorf("the second event of the file is %v", got)
	}
	// Inline YAML events are JSON as YAML means them: strings, numbers,
	// booleans and null as written, keys in order.
	const inline = `{"eventVersion":"1.09","eventTime":"2024-05-01T11:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"CreateTags","awsRegion":"us-east-1","eventID":"prod-tag-2","readOnly":false,"recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob"},"requestParameters":{"resourcesSet":{"items":[{"resourceId":"i-0abc"}]},"tagSet":{"items":[{"key":"Owner","value":"payments"}]},"count":1,"ratio":0.5,"note":null}}`
	if string(tc.Given[2]) != inline {
		t.Errorf("inline event\n%s\nwant\n%s", tc.Given[2], inline)
	}
	if decode(t, tc.Event)["eventID"] != "del-1" {
		t.Errorf("event %s", tc.Event)
	}
	if tc.Expect.Decision != DecisionAct || !reflect.DeepEqual(tc.Expect.Actions, []string{"alert", "revert-tags", "tag"}) || tc.Expect.Rows == nil || *tc.Expect.Rows != 2 {
		t.Errorf("expect %+v", tc.Expect)
	}
	tc = r.Tests[1]
	if tc.Expect.Decision != DecisionNoMatch || tc.Expect.Actions != nil || tc.Expect.Rows != nil || tc.Given != nil || !tc.Now.IsZero() {
		t.Errorf("test %+v", tc)
	}
	if ev := decode(t, tc.Event); ev["readOnly"] != true || ev["eventName"] != "DescribeTags" {
		t.Errorf("event %s", tc.Event)
	}
}

func checkKeyCreated(t *testing.T, r *Runbook) {
	const pattern = `{"detail":{"eventName":["CreateAccessKey"]},"detail-type":["AWS API Call via CloudTrail"],"source":["aws.iam"]}`
	if r.Trigger.Pattern != pattern || !r.Trigger.Envelope || r.Severity != DefaultSeverity || r.Mode != DryRun || r.Query != "" || r.Cooldown != 0 || r.Dedup != nil {
		t.Errorf("runbook %+v", r)
	}
	a := r.Actions[0]
	if a.Kind != "alert" || !reflect.DeepEqual(a.Alert.To, []string{"stdout"}) || a.Alert.Text != nil {
		t.Errorf("alert %+v", a.Alert)
	}
	if got := render(t, a.Alert.Title, nil); got != r.Description {
		t.Errorf("default title %q", got)
	}
	a = r.Actions[1]
	q := a.Quarantine
	if a.Kind != "quarantine" || q.IsolationGroup != "sg-0123456789abcdef0" || !q.Tag ||
		!reflect.DeepEqual(q.BreakGlass, []string{"arn:aws:iam::111122223333:role/break-glass"}) || q.ARNs == nil || a.When == nil {
		t.Errorf("quarantine %+v", a)
	}
	vars := map[string]any{"event": map[string]any{"recipientAccountId": "1"}, "params": map[string]any{"user": "alice"}, "rows": []any{}, "now": time.Now(), "runbook": r.Vars()}
	if got := eval(t, q.ARNs, vars); got != "arn:aws:iam::1:user/alice" {
		t.Errorf("arns gave %v", got)
	}
	if eval(t, a.When, vars) != false {
		t.Error("when holds in dry-run")
	}
	vars["event"] = map[string]any{}
	if got := eval(t, r.Params[0].Expr, vars); got != "" {
		t.Errorf("an optional param gave %v", got)
	}
	tc := r.Tests[0]
	var want bytes.Buffer
	json.Compact(&want, []byte(`{"eventVersion":"1.09","eventTime":"2024-05-01T12:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1","eventID":"key-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/admin"},"requestParameters":{"userName":"alice"}}`))
	if string(tc.Event) != want.String() {
		t.Errorf("event %s", tc.Event)
	}
}

func checkNightly(t *testing.T, r *Runbook) {
	if r.Trigger.Schedule != 24*time.Hour || r.Trigger.Pattern != "" || r.Severity != "low" || len(r.QueryParams) != 0 {
		t.Errorf("runbook %+v", r)
	}
	g := r.Actions[0].Gate
	if g == nil || g.Name != "deploy-prod" || g.State != GateSkip || g.TTL != 12*time.Hour {
		t.Fatalf("gate %+v", g)
	}
	if got := render(t, g.Reason, map[string]any{"rows": []any{1, 2}}); got != "2 resources have no owner" {
		t.Errorf("reason %q", got)
	}
	if a := r.Actions[1].Alert; !reflect.DeepEqual(a.To, []string{"team-chat", "pager", "log"}) || render(t, a.Text, map[string]any{"rows": []any{map[string]any{"arn": "a"}}}) != "a\n" {
		t.Errorf("alert %+v", a)
	}
	tc := r.Tests[0]
	if tc.Event != nil || !tc.Now.Equal(time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)) || *tc.Expect.Rows != 0 {
		t.Errorf("test %+v", tc)
	}
}
