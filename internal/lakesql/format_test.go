package lakesql

import "testing"

// TestFormatConversions checks the Trino-to-DuckDB pattern translations.
func TestFormatConversions(t *testing.T) {
	jsonPath := func(s string) (string, error) {
		p, ok := duckJSONPath(s)
		if !ok {
			return s, nil // passed on unchanged
		}
		return p, nil
	}
	tests := []struct {
		conv    func(string) (string, error)
		in, out string // out "ERR" means the conversion must fail
	}{
		{mysqlFormat, "%Y-%m-%d %H:%i:%s", "%Y-%m-%d %H:%M:%S"},
		{mysqlFormat, "%W, %M %e %l%p %% 100", "%A, %B %-d %-I%p %% 100"},
		{mysqlFormat, "%D", "ERR"},
		{mysqlFormat, "%T %r %c %k %j %f %x-%v %q", "%H:%M:%S %I:%M:%S %p %-m %-H %j %f %G-%V q"},
		{jodaFormat, "yyyy-MM-dd'T'HH:mm:ss.SSSZ", "%Y-%m-%dT%H:%M:%S.%g%z"},
		{jodaFormat, "EEEE, MMMM d, yy h:m a 'it''s' 50%", "%A, %B %-d, %y %-I:%-M %p it's 50%%"},
		{jodaFormat, "G", "ERR"},
		{re2Replacement, `$1-$2 \$ \\ cost`, `\1-\2 $ \\ cost`},
		{re2Replacement, "${name}", "ERR"},
		{jsonPath, `$.a.b[0]["c d"]['e'][*]`, `$.a.b[0]."c d"."e"[*]`},
		{jsonPath, `$.eventData.configuration.AWS:ComplianceItem`, `$.eventData.configuration.AWS:ComplianceItem`},
		{jsonPath, `$.a[`, `$.a[`},
	}
	for _, tt := range tests {
		got, err := tt.conv(tt.in)
		if tt.out == "ERR" {
			if err == nil {
				t.Errorf("%q: got %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.out {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.out)
		}
	}
}
