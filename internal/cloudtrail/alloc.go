package cloudtrail

// slab hands out small slices carved from large chunks, so that a file's
// worth of Maps, Resources and identity parts costs a few allocations rather
// than one each. A slice it returns has its capacity clipped to its length,
// so appending to it never writes into a neighbour.
type slab[T any] struct {
	free []T
}

const slabChunk = 512

// take returns a slice of n elements, or nil when n is 0.
func (s *slab[T]) take(n int) []T {
	if n == 0 {
		return nil
	}
	if len(s.free) < n {
		s.free = make([]T, max(n, slabChunk))
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}

// one returns a pointer to a fresh zero T.
func (s *slab[T]) one() *T {
	return &s.take(1)[0]
}

// arena holds bytes the decoder writes itself: unescaped strings and
// compacted JSON text. Bytes once handed out are never written again, so
// strings viewing them stay immutable.
type arena struct {
	buf []byte
}

const arenaChunk = 64 << 10

// reserve makes room for n more bytes in the current chunk and returns the
// chunk's length before the caller appends.
func (a *arena) reserve(n int) int {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(n, arenaChunk))
	}
	return len(a.buf)
}

// done returns the bytes appended since mark as a string.
func (a *arena) done(mark int) string {
	return view(a.buf[mark:len(a.buf):len(a.buf)])
}
