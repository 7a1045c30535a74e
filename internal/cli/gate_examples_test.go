package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The CI files in examples/ rely on their gate scripts' contract:
// testdata/script/gate_examples.txtar runs the scripts against a store in
// every decision; these tests check that the workflow files use what the
// scripts give (the step output, the exit codes, the dotenv report) the
// way the scripts mean it.

func examplesDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestGitHubExample: the gate step runs the shipped script and may fail
// the job; only the decision output proceed lets the deploy run.
func TestGitHubExample(t *testing.T) {
	dir := examplesDir(t)
	type step struct {
		ID              string         `yaml:"id"`
		Name            string         `yaml:"name"`
		If              string         `yaml:"if"`
		Run             string         `yaml:"run"`
		Uses            string         `yaml:"uses"`
		With            map[string]any `yaml:"with"`
		ContinueOnError any            `yaml:"continue-on-error"`
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []step `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, filepath.Join(dir, "github-actions", "deploy.yml"), &wf)
	job, ok := wf.Jobs["deploy"]
	if !ok {
		t.Fatal("deploy.yml has no job deploy")
	}
	gate := slices.IndexFunc(job.Steps, func(s step) bool { return s.ID == "gate" })
	if gate < 0 {
		t.Fatal("deploy.yml has no step with id gate")
	}
	g := job.Steps[gate]
	if !strings.Contains(g.Run, "sh examples/github-actions/gate.sh deploy-prod") {
		t.Errorf("the gate step runs %q, not the shipped script", g.Run)
	}
	if g.ContinueOnError != nil {
		t.Error("the gate step has continue-on-error: a halt would not fail the job")
	}
	deploys, kept := 0, false
	for _, s := range job.Steps[gate+1:] {
		if s.Name == "Deploy" {
			deploys++
			if s.If != "steps.gate.outputs.decision == 'proceed'" {
				t.Errorf("the deploy step runs if %q; want only on the decision output proceed", s.If)
			}
		}
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") && s.With["path"] == "${{ steps.gate.outputs.json }}" {
			kept = true
		}
	}
	if deploys != 1 {
		t.Errorf("%d steps named Deploy after the gate step; want 1", deploys)
	}
	if !kept {
		t.Error("no step uploads the decision JSON (steps.gate.outputs.json)")
	}
}

// TestGitLabExample: skip (3) is the gate job's only allowed failure, its
// dotenv report reaches the deploy job even then, and the deploy job's
// script deploys on proceed alone.
func TestGitLabExample(t *testing.T) {
	dir := examplesDir(t)
	type job struct {
		Script       []string `yaml:"script"`
		Needs        []string `yaml:"needs"`
		AllowFailure struct {
			ExitCodes []int `yaml:"exit_codes"`
		} `yaml:"allow_failure"`
		Artifacts struct {
			When    string   `yaml:"when"`
			Paths   []string `yaml:"paths"`
			Reports struct {
				Dotenv string `yaml:"dotenv"`
			} `yaml:"reports"`
		} `yaml:"artifacts"`
		Rules []map[string]any `yaml:"rules"`
	}
	var ci map[string]yaml.Node
	readYAML(t, filepath.Join(dir, "gitlab-ci", ".gitlab-ci.yml"), &ci)
	jobOf := func(name string) job {
		n, ok := ci[name]
		if !ok {
			t.Fatalf(".gitlab-ci.yml has no job %s", name)
		}
		var j job
		if err := n.Decode(&j); err != nil {
			t.Fatalf("job %s: %v", name, err)
		}
		return j
	}

	gate := jobOf("gate:deploy-prod")
	if !slices.Contains(gate.Script, "sh examples/gitlab-ci/gate.sh deploy-prod") {
		t.Errorf("the gate job runs %q, not the shipped script", gate.Script)
	}
	if !slices.Equal(gate.AllowFailure.ExitCodes, []int{3}) {
		t.Errorf("the gate job allows exit codes %v; want [3], skip alone", gate.AllowFailure.ExitCodes)
	}
	// The script's defaults.
	if gate.Artifacts.When != "always" || gate.Artifacts.Reports.Dotenv != "trailbook-gate.env" || !slices.Contains(gate.Artifacts.Paths, "trailbook-gate.txt") {
		t.Errorf("the gate job's artifacts are %+v; want when always, the dotenv report trailbook-gate.env and trailbook-gate.txt", gate.Artifacts)
	}

	deploy := jobOf("deploy:prod")
	if !slices.Equal(deploy.Needs, []string{"gate:deploy-prod"}) {
		t.Errorf("the deploy job needs %v; want [gate:deploy-prod]", deploy.Needs)
	}
	for _, r := range deploy.Rules {
		if r["when"] == "always" {
			t.Error("a rule of the deploy job has when: always, which runs it after a halt")
		}
	}

	// The deploy job's script, as GitLab runs it: one shell, stopping at
	// the first failing line; ./deploy.sh leaves a mark.
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "deploy.sh"), []byte("#!/bin/sh\ntouch deployed\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "set -e\n" + strings.Join(deploy.Script, "\n")
	for _, tc := range []struct {
		decision string // "" leaves GATE_DECISION unset
		ok       bool
		deployed bool
	}{
		{"proceed", true, true},
		{"skip", true, false},
		{"halt", false, false},
		{"error", false, false},
		{"", false, false},
	} {
		os.Remove(filepath.Join(work, "deployed"))
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		if tc.decision != "" {
			cmd.Env = append(cmd.Env, "GATE_DECISION="+tc.decision)
		}
		out, err := cmd.CombinedOutput()
		if ok := err == nil; ok != tc.ok {
			t.Errorf("GATE_DECISION=%q: the deploy job's script ended with %v; want success %v\n%s", tc.decision, err, tc.ok, out)
		}
		_, serr := os.Stat(filepath.Join(work, "deployed"))
		if deployed := !errors.Is(serr, os.ErrNotExist); deployed != tc.deployed {
			t.Errorf("GATE_DECISION=%q: deployed %v; want %v\n%s", tc.decision, deployed, tc.deployed, out)
		}
	}
}
