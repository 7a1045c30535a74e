package gen

import "math/rand/v2"

const (
	alnumChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	keyChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64Chars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// appendRandom appends n characters drawn from chars, whose length must be
// at most 64. It uses six bits of a 64-bit draw per character.
func appendRandom(b []byte, r *rand.Rand, chars string, n int) []byte {
	var bits uint64
	left := 0
	for i := 0; i < n; i++ {
		if left == 0 {
			bits, left = r.Uint64(), 10
		}
		b = append(b, chars[int(bits&63)%len(chars)])
		bits >>= 6
		left--
	}
	return b
}

func randomString(r *rand.Rand, chars string, n int) string {
	return string(appendRandom(make([]byte, 0, n), r, chars, n))
}

// appendUUID appends a version 4 UUID drawn from r.
func appendUUID(b []byte, r *rand.Rand) []byte {
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12
	lo = lo&^(0x3<<62) | 0x2<<62
	b = appendHex(b, hi>>32, 8)
	b = append(b, '-')
	b = appendHex(b, hi>>16, 4)
	b = append(b, '-')
	b = appendHex(b, hi, 4)
	b = append(b, '-')
	b = appendHex(b, lo>>48, 4)
	b = append(b, '-')
	return appendHex(b, lo, 12)
}

func uuid(r *rand.Rand) string {
	return string(appendUUID(make([]byte, 0, 36), r))
}

// appendUpperUUID is appendUUID in upper case, as clientToken and
// SecretVersionId values are written.
func appendUpperUUID(b []byte, r *rand.Rand) []byte {
	n := len(b)
	b = appendUUID(b, r)
	for i := n; i < len(b); i++ {
		if c := b[i]; c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return b
}

// appendHex appends the low n hex digits of v.
func appendHex(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(uint(i)*4))&15])
	}
	return b
}

func hexString(r *rand.Rand, n int) string {
	b := make([]byte, 0, n)
	for len(b) < n {
		k := min(16, n-len(b))
		b = appendHex(b, r.Uint64(), k)
	}
	return string(b)
}

// mix64 is the splitmix64 finaliser: a cheap, well-spread hash used to
// derive per-file seeds and per-hour session keys from small integers.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// appendKeyID appends an access key id: prefix then 16 characters derived
// from h, so the same h always yields the same key.
func appendKeyID(b []byte, prefix string, h uint64) []byte {
	b = append(b, prefix...)
	h2 := mix64(h)
	for i := 0; i < 16; i++ {
		if i == 12 {
			h = h2
		}
		b = append(b, keyChars[h&31])
		h >>= 5
	}
	return b
}

func keyID(prefix string, h uint64) string {
	return string(appendKeyID(nil, prefix, h))
}

func pick[T any](r *rand.Rand, s []T) T {
	return s[r.IntN(len(s))]
}
