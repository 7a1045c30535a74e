package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailbook/trailbook/internal/audit"
	"github.com/trailbook/trailbook/internal/gate"
)

type checkResult struct {
	Gate     string `json:"gate"`
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
	Cached   bool   `json:"cached"`
	State    *struct {
		State    string `json:"state"`
		SetBy    string `json:"set_by"`
		Override bool   `json:"override"`
	} `json:"state"`
	Checks []struct {
		Name     string `json:"name"`
		Decision string `json:"decision"`
		RowCount int    `json:"row_count"`
	} `json:"checks"`
}

func (f *fixture) check(path, who string) checkResult {
	f.t.Helper()
	var c checkResult
	f.do("GET", path, who, nil).ok(f.t, &c)
	return c
}

func (f *fixture) gateList() map[string]gate.Listing {
	f.t.Helper()
	var res struct {
		Gates []gate.Listing `json:"gates"`
	}
	f.do("GET", "/v1/gates", "reader", nil).ok(f.t, &res)
	out := map[string]gate.Listing{}
	for _, g := range res.Gates {
		out[g.Gate] = g
	}
	return out
}

// TestGates checks, overrides and reopens gates end to end, as a
// pipeline and an operator would, and then verifies the audit log.
func TestGates(t *testing.T) {
	f := newFixture(t)
	list := f.gateList()
	if len(list) != 3 || list["deploy"].State != "open" || !list["deploy"].Defined || list["deploy"].LastCheck != "" {
		t.Fatalf("gates before: %+v", list)
	}

	// The root call an hour ago halts deploy: exit code 1.
	c := f.check("/v1/gates/deploy?ci.repository=acme/app&ci.run_id=42", "reader")
	if c.Decision != "halt" || c.ExitCode != 1 || len(c.Checks) != 1 || c.Checks[0].RowCount != 1 || !strings.Contains(c.Reason, "ListBuckets") {
		t.Fatalf("deploy: %+v", c)
	}
	if c2 := f.check("/v1/gates/deploy", "reader"); !c2.Cached || c2.Decision != "halt" {
		t.Errorf("the second check did not reuse the first: %+v", c2)
	}
	if c3 := f.check("/v1/gates/deploy?no_cache=true", "reader"); c3.Cached {
		t.Errorf("no_cache=true reused a result: %+v", c3)
	}

	// Params: required, unknown, given.
	f.do("GET", "/v1/gates/release", "reader", nil).apiError(t, 400, CodeBadParam)
	f.do("GET", "/v1/gates/release?param.account=1&param.region=x", "reader", nil).apiError(t, 400, CodeBadParam)
	f.do("GET", "/v1/gates/release?account=1", "reader", nil).apiError(t, 400, CodeBadRequest)
	f.do("GET", "/v1/gates/release?no_cache=maybe", "reader", nil).apiError(t, 400, CodeBadRequest)
	if c := f.check("/v1/gates/release?param.account=444455556666", "reader"); c.Decision != "skip" || c.ExitCode != 3 {
		t.Errorf("release for the denied account: %+v", c)
	}
	if c := f.check("/v1/gates/release?param.account=111122223333", "reader"); c.Decision != "proceed" || c.ExitCode != 0 {
		t.Errorf("release for the other account: %+v", c)
	}
	// A check that fails halts a fail-closed gate with exit code 2.
	if c := f.check("/v1/gates/fragile", "reader"); c.Decision != "halt" || c.ExitCode != 2 || c.Error == "" {
		t.Errorf("fragile: %+v", c)
	}
	f.do("GET", "/v1/gates/nope", "reader", nil).apiError(t, 404, CodeNotFound)

	// Overrides: only deploy's owner, with a reason, a decision and an
	// until within a week.
	override := map[string]any{"decision": "proceed", "until": "1h", "reason": "the root call was the break-glass drill"}
	f.do("POST", "/v1/gates/deploy/override", "reader", override).apiError(t, 403, CodeForbidden)
	f.do("POST", "/v1/gates/deploy/override", "intern", override).apiError(t, 403, CodeNotOwner)
	for _, bad := range []map[string]any{
		{"decision": "go", "until": "1h", "reason": "x"},
		{"decision": "proceed", "until": "-1h", "reason": "x"},
		{"decision": "proceed", "until": "2000-01-01T00:00:00Z", "reason": "x"},
		{"decision": "proceed", "until": "30d", "reason": "x"},
		{"decision": "proceed", "until": "720h", "reason": "x"},
		{"decision": "proceed", "until": "1h", "reason": " "},
		{"decision": "proceed", "until": "1h", "reason": "x", "by": "someone-else"},
	} {
		f.do("POST", "/v1/gates/deploy/override", "ops", bad).apiError(t, 400, CodeBadRequest)
	}
	var st stateResponse
	f.do("POST", "/v1/gates/deploy/override", "ops", override).ok(t, &st)
	if st.State != "proceed" || st.SetBy != "ops" || st.Until.Sub(time.Now()) < 59*time.Minute || st.Until.Sub(time.Now()) > time.Hour {
		t.Errorf("override: %+v", st)
	}
	c = f.check("/v1/gates/deploy", "reader")
	if c.Decision != "proceed" || c.ExitCode != 0 || c.State == nil || !c.State.Override || c.State.SetBy != "ops" || !strings.Contains(c.Reason, "the checks say halt") {
		t.Errorf("deploy overridden: %+v", c)
	}
	list = f.gateList()
	if d := list["deploy"]; d.State != "proceed" || d.SetBy != "ops" || len(d.InForce) != 1 || d.LastCheck != "proceed" {
		t.Errorf("deploy listed: %+v", d)
	}

	// Reopening clears the override and acknowledges the root call.
	f.do("POST", "/v1/gates/deploy/reopen", "intern", map[string]any{"reason": "x"}).apiError(t, 403, CodeNotOwner)
	f.do("POST", "/v1/gates/deploy/reopen", "ops", map[string]any{}).apiError(t, 400, CodeBadRequest)
	f.do("POST", "/v1/gates/deploy/reopen", "ops", map[string]any{"reason": "drill reviewed"}).ok(t, &st)
	if st.State != "open" || st.SetBy != "ops" {
		t.Errorf("reopen: %+v", st)
	}
	if c := f.check("/v1/gates/deploy", "reader"); c.Decision != "proceed" || c.State != nil || c.Checks[0].RowCount != 0 {
		t.Errorf("deploy reopened: %+v", c)
	}
	// A root call after the reopening halts it again.
	time.Sleep(2 * time.Millisecond)
	f.addEvents(`{"eventVersion":"1.09","eventTime":"` + time.Now().UTC().Format(time.RFC3339Nano) + `","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","eventType":"AwsApiCall","awsRegion":"us-east-1","eventID":"root-2","recipientAccountId":"111122223333","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}}`)
	time.Sleep(2 * time.Millisecond)
	if c := f.check("/v1/gates/deploy", "reader"); c.Decision != "halt" || !strings.Contains(c.Reason, "CreateAccessKey") {
		t.Errorf("deploy after a new root call: %+v", c)
	}

	// Every decision, override and reopening is in the audit log, which
	// verifies.
	var v verifyReport
	f.do("GET", "/v1/audit/verify", "reader", nil).ok(t, &v)
	total := f.count("SELECT count(*) FROM audit")
	if !v.Intact || v.Entries != total || v.LastSeq != int64(total) || v.StoreSeq != int64(total) || len(v.Problems) != 0 {
		t.Fatalf("verify: %+v (the store holds %d)", v, total)
	}
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	f.do("GET", "/v1/audit?limit=1000", "reader", nil).ok(t, &page)
	var kinds []string
	var override0, decision0 map[string]any
	for _, e := range page.Entries {
		kinds = append(kinds, e.Kind)
		var data map[string]any
		json.Unmarshal(e.Data, &data)
		if e.Kind == "gate-override" {
			override0 = data
		}
		if e.Kind == "gate-decision" && decision0 == nil {
			decision0 = data
		}
	}
	want := "gate-decision gate-decision gate-decision gate-decision gate-decision gate-decision gate-override gate-decision gate-reopen gate-decision gate-decision"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("audit kinds:\n got %s\nwant %s", got, want)
	}
	if override0["by"] != "ops" {
		t.Errorf("the override is recorded by %v", override0["by"])
	}
	ci, _ := decision0["ci"].(map[string]any)
	if ci["api_token"] != "reader" || ci["repository"] != "acme/app" || ci["run_id"] != "42" {
		t.Errorf("the first decision's ci: %v", decision0["ci"])
	}
}

// TestGateUnrecorded: a decision the audit log refuses is a 500 that says
// not to act on it.
func TestGateUnrecorded(t *testing.T) {
	f := newFixture(t)
	f.log.Close()
	f.do("GET", "/v1/gates/deploy", "reader", nil).apiError(t, http.StatusInternalServerError, CodeUnrecorded)
	if !strings.Contains(f.logs.String(), "gate decision not recorded") {
		t.Errorf("the log does not say why:\n%s", f.logs.String())
	}
}
