package cloudtrail

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// deliveryFile builds one S3 delivery file, compact and gzipped as CloudTrail
// writes them, from every Invictus record (about 1.26 KB each).
func deliveryFile(tb testing.TB) (gz []byte, records int) {
	tb.Helper()
	files, err := filepath.Glob("testdata/invictus/*.json.gz")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no invictus testdata: %v", err)
	}
	var all []json.RawMessage
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			tb.Fatal(err)
		}
		var file struct{ Records []json.RawMessage }
		if err := json.NewDecoder(zr).Decode(&file); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		all = append(all, file.Records...)
	}
	raw := []byte(`{"Records":[`)
	for i, r := range all {
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = append(raw, r...)
	}
	raw = append(raw, "]}"...)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	return buf.Bytes(), len(all)
}

// BenchmarkDecode measures Decode on one realistic gzipped delivery file
// ("gzip", the figure that matters) and on the same data already inflated
// ("plain", the decoder alone).
func BenchmarkDecode(b *testing.B) {
	gz, n := deliveryFile(b)
	plain, err := gunzip(gz, DefaultMaxInflatedBytes)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"gzip", gz}, {"plain", plain}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(plain)))
			for b.Loop() {
				res := Decode(c.data, Options{})
				if len(res.Events) != n {
					b.Fatalf("decoded %d events, want %d", len(res.Events), n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
