package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"text/template"

	"github.com/trailbook/trailbook/internal/action"
)

// TemplateData is what a webhook Template is executed with: the Alert's
// fields and the Action's Key, Runbook and Kind.
type TemplateData struct {
	Key      string
	Runbook  string
	Kind     string
	Severity string
	Title    string
	Text     string
	To       []string
	Fields   map[string]any
}

func templateData(a action.Action) TemplateData {
	return TemplateData{
		Key:      a.Key,
		Runbook:  a.Runbook,
		Kind:     a.Kind,
		Severity: a.Alert.Severity,
		Title:    a.Alert.Title,
		Text:     a.Alert.Text,
		To:       a.Alert.To,
		Fields:   a.Alert.Fields,
	}
}

// templateFuncs returns the functions a webhook Template may call, beyond
// text/template's own.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		// json encodes v as JSON, quotes included for a string, so that
		// any value lands in the body as valid JSON.
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			if err != nil {
				return "", fmt.Errorf("json: %w", err)
			}
			return string(b), nil
		},
	}
}

func parseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(templateFuncs()).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("template does not parse: %w", err)
	}
	return t, nil
}

// errNotJSON is wrapped by render when a template's output is not JSON.
var errNotJSON = errors.New("template output is not valid JSON")

// render executes t with a's data and checks that the result is valid
// JSON. Its error never quotes the body.
func render(t *template.Template, a action.Action) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, templateData(a)); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if !json.Valid(b.Bytes()) {
		return nil, fmt.Errorf("%w (%d bytes)", errNotJSON, b.Len())
	}
	return b.Bytes(), nil
}

// sampleAlert is the Action a Template is tried with by Validate. Its text
// has quotes, a backslash and a line break, so that a template pasting
// {{.Text}} between quotes instead of calling json fails lint rather than
// the first real alert.
func sampleAlert(channel string) action.Action {
	return action.Action{
		Key:     action.Key("sample-runbook", "sample-event", 0),
		Runbook: "sample-runbook",
		Index:   0,
		Kind:    action.KindAlert,
		Alert: &action.Alert{
			Severity: "high",
			Title:    `Sample "alert"`,
			Text:     "Line one with \"quotes\" and a \\ backslash.\nLine two.",
			To:       []string{channel},
			Fields: map[string]any{
				"event":     map[string]any{"eventName": "PutBucketPolicy", "eventSource": "s3.amazonaws.com", "awsRegion": "us-east-1"},
				"principal": "arn:aws:iam::123456789012:user/sample",
				"resources": []any{"arn:aws:s3:::sample-bucket"},
			},
		},
	}
}

type codedError struct {
	code string
	err  error
}

// sampleBody parses c's Template and renders it with sampleAlert.
func sampleBody(c Channel) ([]byte, *codedError) {
	t, err := parseTemplate(c.Name, c.Template)
	if err != nil {
		return nil, &codedError{CodeBadTemplate, err}
	}
	b, err := render(t, sampleAlert(c.Name))
	if err != nil {
		code := CodeBadTemplate
		if errors.Is(err, errNotJSON) {
			code = CodeTemplateNotJSON
		}
		return nil, &codedError{code, fmt.Errorf("with a sample alert: %w", err)}
	}
	return b, nil
}
