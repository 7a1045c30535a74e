package config

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Size
	}{
		{"0", 0},
		{"1048576", 1 << 20},
		{"10MB", 10_000_000},
		{"10 MB", 10_000_000},
		{"10mb", 10_000_000},
		{"512KiB", 512 << 10},
		{"512 kib", 512 << 10},
		{"1GB", 1_000_000_000},
		{"4GiB", 4 << 30},
		{"2TB", 2_000_000_000_000},
		{"1TiB", 1 << 40},
		{"7B", 7},
		{" 3KB ", 3000},
		{"9223372036854775807", 1<<63 - 1},
	} {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "MB", "-1", "-1MB", "1.5GB", "10 megabytes", "10M", "0x10", "9223372036854775808", "10000000TB", "1 2MB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d; want an error", in, got)
		}
	}
}

// TestSizeString: String writes the largest exact unit, and ParseSize
// reads it back.
func TestSizeString(t *testing.T) {
	for _, tc := range []struct {
		in   Size
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{1500, "1500B"},
		{1_500_000, "1500KB"},
		{10 * MB, "10MB"},
		{GB, "1GB"},
		{GiB, "1GiB"},
		{1536 * KiB, "1536KiB"},
		{3 * TB, "3TB"},
		{1<<63 - 1, "9223372036854775807B"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("Size(%d).String() = %q; want %q", int64(tc.in), got, tc.want)
		}
		if back, err := ParseSize(tc.in.String()); err != nil || back != tc.in {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in.String(), back, err, int64(tc.in))
		}
	}
}
