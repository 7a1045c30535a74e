package daemon

// WithPageSize is cfg listing n keys a page, to make tests page.
func WithPageSize(cfg S3Config, n int32) S3Config {
	cfg.pageSize = n
	return cfg
}

// CachedKeys is how many keys src, an S3 source, holds as known stored.
func CachedKeys(src Source) int {
	s := src.(*s3Source)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.taken {
		n += len(m)
	}
	return n
}
