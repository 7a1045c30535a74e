package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trailbook/trailbook/internal/action"
)

// snsSubjectMax is SNS's limit on a subject, in characters.
const snsSubjectMax = 100

// snsSubject is title fit for an SNS subject: one line, at most 100
// characters, no leading or trailing space.
func snsSubject(title string) string {
	s := strings.TrimSpace(oneLine(title))
	if r := []rune(s); len(r) > snsSubjectMax {
		s = strings.TrimSpace(string(r[:snsSubjectMax]))
	}
	return s
}

// snsMessage is the alert's text (its title if the text is empty), then,
// when it has fields, a blank line and the fields as indented JSON.
func snsMessage(a action.Action) (string, error) {
	text := a.Alert.Text
	if strings.TrimSpace(text) == "" {
		text = a.Alert.Title
	}
	if len(a.Alert.Fields) == 0 {
		return text, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(a.Alert.Fields); err != nil {
		return "", fmt.Errorf("encode fields: %w", err)
	}
	return text + "\n\n" + strings.TrimSuffix(b.String(), "\n"), nil
}
