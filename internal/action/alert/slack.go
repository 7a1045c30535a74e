package alert

import (
	"strings"
	"unicode/utf8"

	"github.com/trailbook/trailbook/internal/action"
)

// Slack limits on block text, in characters.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
)

// slackText is a Slack text object.
type slackText struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

// slackBlock is one Slack layout block: a header or a section (Text) or a
// context (Elements).
type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

// slackMessage is the body posted to a Slack incoming webhook. Text is
// what notifications show; Blocks are what the channel shows.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// slackBody is the Slack message for a: a header block with the title, a
// section with the text (left out when empty), and a context line
// "runbook: R | severity: S". The title falls back to "Alert from R".
func slackBody(a action.Action) ([]byte, error) {
	title := oneLine(a.Alert.Title)
	if strings.TrimSpace(title) == "" {
		title = "Alert from " + a.Runbook
	}
	m := slackMessage{
		Text: truncate(slackEscape("["+a.Alert.Severity+"] "+title), slackSectionMax),
		Blocks: []slackBlock{
			{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(title, slackHeaderMax)}},
		},
	}
	if strings.TrimSpace(a.Alert.Text) != "" {
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(slackEscape(a.Alert.Text), slackSectionMax)}})
	}
	m.Blocks = append(m.Blocks, slackBlock{Type: "context", Elements: []slackText{{
		Type: "mrkdwn",
		Text: slackEscape("runbook: " + a.Runbook + " | severity: " + a.Alert.Severity),
	}}})
	return marshal(m)
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning
// to as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n characters, the last being "…" when cut.
// An HTML entity from slackEscape may be cut, which Slack shows as text.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
