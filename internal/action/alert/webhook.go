package alert

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/trailbook/trailbook/internal/action"
)

// WebhookBody is the JSON body a webhook channel without a Template
// posts. Fields is {} when the alert has none.
type WebhookBody struct {
	Key      string         `json:"key"`
	Runbook  string         `json:"runbook"`
	Severity string         `json:"severity"`
	Title    string         `json:"title"`
	Text     string         `json:"text"`
	Fields   map[string]any `json:"fields"`
}

// webhookBody is ch's rendered Template for a, or the default body.
func webhookBody(ch *channel, a action.Action) ([]byte, error) {
	if ch.tmpl != nil {
		return render(ch.tmpl, a)
	}
	fields := a.Alert.Fields
	if fields == nil {
		fields = map[string]any{}
	}
	return marshal(WebhookBody{
		Key:      a.Key,
		Runbook:  a.Runbook,
		Severity: a.Alert.Severity,
		Title:    a.Alert.Title,
		Text:     a.Alert.Text,
		Fields:   fields,
	})
}

// marshal is json.Marshal without HTML escaping, so that receivers and
// people reading their logs see <, > and & as they are.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
