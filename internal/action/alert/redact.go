package alert

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// origin returns scheme://host of u, the only part of a channel's URL that
// may be shown: the path and query of a webhook URL often are the token.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(unparsable url)"
	}
	return p.Scheme + "://" + p.Host
}

// minSecret is the shortest string the redactor replaces. Shorter values
// (a header "on", a path "/") would garble every message and give nothing
// away.
const minSecret = 4

// redactor replaces a channel's secrets (the part of its URL after
// scheme://host, the URL's path and query, its header values) in any text
// with "[redacted]". Messages are built not to hold secrets in the first
// place; the redactor also covers what a receiver echoes back in a
// response body.
type redactor struct {
	r *strings.Replacer
}

func newRedactor(rawURL string, headerValues []string) redactor {
	secrets := slices.Clone(headerValues)
	if p, err := url.Parse(rawURL); err == nil {
		secrets = append(secrets, p.EscapedPath(), p.Path, p.RawQuery, p.Fragment)
		if q, err := url.QueryUnescape(p.RawQuery); err == nil {
			secrets = append(secrets, q)
		}
	}
	if o := origin(rawURL); strings.HasPrefix(rawURL, o) {
		secrets = append(secrets, rawURL[len(o):])
	} else {
		secrets = append(secrets, rawURL)
	}
	var keep []string
	for _, s := range secrets {
		if len(s) >= minSecret {
			keep = append(keep, s)
		}
	}
	// Longest first, so that a secret holding another is replaced whole.
	sort.SliceStable(keep, func(i, j int) bool { return len(keep[i]) > len(keep[j]) })
	var pairs []string
	for _, s := range keep {
		pairs = append(pairs, s, "[redacted]")
	}
	return redactor{strings.NewReplacer(pairs...)}
}

func (r redactor) clean(s string) string {
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// snippet returns at most n bytes of b as one printable line, for an error
// message.
func snippet(b []byte, n int) string {
	var sb strings.Builder
	for len(b) > 0 && sb.Len() < n {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == utf8.RuneError && size == 1:
			sb.WriteRune(utf8.RuneError)
		case unicode.IsControl(r) || unicode.IsSpace(r):
			if s := sb.String(); s != "" && !strings.HasSuffix(s, " ") {
				sb.WriteByte(' ')
			}
		default:
			sb.WriteRune(r)
		}
	}
	s := strings.TrimSpace(sb.String())
	if len(b) > 0 {
		s += "..."
	}
	return s
}
