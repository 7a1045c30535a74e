package daemon

// WithPageSize is cfg listing n keys a page, to make tests page.
func WithPageSize(cfg S3Config, n int32) S3Config {
	cfg.pageSize = n
	return cfg
}
