package lakesql

import (
	"context"
	"os"
	"testing"
)

// BenchmarkTranslate measures translation overhead (lexing, two DuckDB
// round trips, the tree rewrite) for a typical sample query.
func BenchmarkTranslate(b *testing.B) {
	conn := newConn(b, false)
	ctx := context.Background()
	for _, name := range []string{"ec2-public-security-group.sql", "top-iam-actions-by-principal.sql"} {
		src, err := os.ReadFile("testdata/samples/" + name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Translate(ctx, conn, string(src), Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
