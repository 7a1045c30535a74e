package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a number of bytes. A file writes it as a whole number of bytes,
// or a whole number and a unit: B, KB, MB, GB, TB (powers of 1000, as
// DuckDB counts them) or KiB, MiB, GiB, TiB (powers of 1024), in any case,
// with or without a space: 10MB, 512KiB, 1048576.
type Size int64

// Units of Size.
const (
	B   Size = 1
	KB  Size = 1000
	MB  Size = 1000 * KB
	GB  Size = 1000 * MB
	TB  Size = 1000 * GB
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
	TiB Size = 1 << 40
)

// sizeUnit is one unit as written, and its bytes.
type sizeUnit struct {
	name string
	size Size
}

// sizeUnits are the units, largest first, decimal before binary at the
// same magnitude, as String prefers them.
func sizeUnits() []sizeUnit {
	return []sizeUnit{
		{"TB", TB}, {"TiB", TiB}, {"GB", GB}, {"GiB", GiB},
		{"MB", MB}, {"MiB", MiB}, {"KB", KB}, {"KiB", KiB}, {"B", B},
	}
}

// ParseSize reads a size as a file writes it (see Size). Negative sizes,
// fractions and sizes beyond an int64 are errors.
func ParseSize(s string) (Size, error) {
	digits := strings.TrimSpace(s)
	end := 0
	for end < len(digits) && digits[end] >= '0' && digits[end] <= '9' {
		end++
	}
	num, unit := digits[:end], strings.TrimSpace(digits[end:])
	switch {
	case num == "" && strings.HasPrefix(digits, "-"):
		return 0, errors.New("a size cannot be negative")
	case num == "":
		return 0, errors.New("a size starts with a whole number of bytes or units")
	case strings.HasPrefix(unit, "."):
		return 0, errors.New("a size is a whole number; use a smaller unit for a fraction")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, errors.New("the size is too large")
	}
	mult := B
	if unit != "" {
		mult = 0
		for _, u := range sizeUnits() {
			if strings.EqualFold(unit, u.name) {
				mult = u.size
			}
		}
		if mult == 0 {
			return 0, fmt.Errorf("unknown unit %q; want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB", unit)
		}
	}
	if n > math.MaxInt64/int64(mult) {
		return 0, errors.New("the size is too large")
	}
	return Size(n) * mult, nil
}

// String writes s in its largest unit that divides it exactly, as
// ParseSize reads it: "10MB", "512KiB", "1500B".
func (s Size) String() string {
	if s < 0 {
		return strconv.FormatInt(int64(s), 10) + "B"
	}
	for _, u := range sizeUnits() {
		if s >= u.size && s%u.size == 0 {
			return strconv.FormatInt(int64(s/u.size), 10) + u.name
		}
	}
	return "0B"
}

// MarshalYAML writes s as String does.
func (s Size) MarshalYAML() (any, error) { return s.String(), nil }
