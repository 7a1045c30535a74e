package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPI: every route the server serves is in docs/openapi.yaml with
// the role it needs, and every operation there is served; every error
// code is documented there and in docs/api.md.
func TestOpenAPI(t *testing.T) {
	data, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q, want 3.x", doc.OpenAPI)
	}
	var tree any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	checkTree(t, tree, tree, "#")
	documented := map[string]map[string]any{} // "GET /v1/x" -> operation
	for path, item := range doc.Paths {
		for method, op := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				documented[strings.ToUpper(method)+" "+path] = op
			}
		}
	}

	// Every optional endpoint served.
	f := newFixture(t)
	served := map[string]Role{}
	for _, rt := range f.api.routes() {
		// ServeMux's {name...} is OpenAPI's {name}.
		served[strings.ReplaceAll(rt.pattern, "...}", "}")] = rt.role
	}
	for _, key := range slices.Sorted(maps.Keys(served)) {
		op, ok := documented[key]
		if !ok {
			t.Errorf("%s is served but not in docs/openapi.yaml", key)
			continue
		}
		role := "none"
		if r := served[key]; r != 0 {
			role = r.String()
		}
		if got := op["x-trailbook-role"]; got != role {
			t.Errorf("%s: x-trailbook-role %v, want %s", key, got, role)
		}
		responses, _ := op["responses"].(map[string]any)
		if role != "none" {
			for _, status := range []string{"200", "401", "403"} {
				if _, ok := responses[status]; !ok {
					t.Errorf("%s: no %s response", key, status)
				}
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(documented)) {
		if _, ok := served[key]; !ok {
			t.Errorf("%s is in docs/openapi.yaml but not served", key)
		}
	}

	api, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range errorCodes(t) {
		if !strings.Contains(string(data), code) {
			t.Errorf("code %s is not in docs/openapi.yaml", code)
		}
		if !strings.Contains(string(api), "`"+code+"`") {
			t.Errorf("code %s is not in docs/api.md", code)
		}
	}
	for key := range served {
		if !strings.Contains(string(api), key) {
			t.Errorf("%s is not in docs/api.md", key)
		}
	}
}

// errorCodes are the values of the Code constants of errors.go.
func errorCodes(t *testing.T) []string {
	file, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(file, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Code") || len(vs.Values) != 1 {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
			s, _ := strconv.Unquote(lit.Value)
			out = append(out, s)
		}
		return true
	})
	if len(out) < 10 {
		t.Fatalf("found %d codes in errors.go", len(out))
	}
	return out
}

// checkTree reports every null in the document (a comma in a flow
// mapping's plain scalar makes one) and every local $ref that leads
// nowhere.
func checkTree(t *testing.T, root, n any, at string) {
	switch n := n.(type) {
	case map[string]any:
		for k, v := range n {
			if v == nil {
				t.Errorf("openapi.yaml: %s/%s is null", at, k)
			}
			if ref, ok := v.(string); ok && k == "$ref" && !resolves(root, ref) {
				t.Errorf("openapi.yaml: %s: $ref %s leads nowhere", at, ref)
			}
			checkTree(t, root, v, at+"/"+k)
		}
	case []any:
		for i, v := range n {
			checkTree(t, root, v, at+"/"+strconv.Itoa(i))
		}
	}
}

func resolves(root any, ref string) bool {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	n := root
	for _, k := range strings.Split(path, "/") {
		m, ok := n.(map[string]any)
		if !ok {
			return false
		}
		if n, ok = m[strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~")]; !ok {
			return false
		}
	}
	return true
}
