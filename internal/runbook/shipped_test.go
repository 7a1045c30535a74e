package runbook

import (
	"context"
	"testing"
)

// TestShippedRunbooks: the runbooks the repository ships load without a
// problem.
func TestShippedRunbooks(t *testing.T) {
	set, err := LoadDir(context.Background(), "../../runbooks", Options{Conn: newConn(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Runbooks) < 5 {
		t.Errorf("loaded %d runbooks", len(set.Runbooks))
	}
}
