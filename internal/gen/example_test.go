package gen_test

import (
	"context"
	"fmt"
	"os"

	"github.com/trailbook/trailbook/internal/gen"
)

func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "trail")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := gen.Generate(context.Background(), gen.Options{Events: 5000, Seed: 7, Out: dir})
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Files, "files,", st.Events, "events")
	// Output: 8 files, 5000 events
}
