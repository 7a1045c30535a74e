package store

/*
#include <stdlib.h>

// duckdb_arrow_scan from duckdb.h (DuckDB 1.5): it creates a view, in the
// connection's current database, that scans an Arrow C stream. Declared here
// rather than included, with the handles as plain pointers, so that the
// store needs neither the header's path nor duckdb-go's duckdb_arrow build
// tag; the symbol is in the DuckDB library that duckdb-go links.
int duckdb_arrow_scan(void *connection, const char *table_name, void *arrow);
*/
import "C"

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"
)

// arrowConn registers Arrow record batches as views on one connection, so
// that a statement reads them with no cgo call per value: the columns are
// built in Go and DuckDB converts them a vector at a time, on its own
// threads.
//
// DuckDB's C API makes such a view in the connection's current database,
// never as a temporary one: a view in the store's file would be written to
// its log at commit, pointers and all. So the views live in scratchDB, an
// in-memory database attached to the store's instance, and each lasts one
// statement. User SQL cannot name them: the query translator refuses
// qualified table names.
type arrowConn struct {
	conn   *sql.Conn
	handle unsafe.Pointer // conn's duckdb_connection
	main   string         // conn's database
}

// scratchDB is the in-memory database that holds a Writer's Arrow views.
const scratchDB = "trailbook_scratch"

// newArrowConn prepares conn for Arrow views. duckdb-go gives a
// connection's DuckDB handle only behind its duckdb_arrow build tag, which
// every go command in this module would then need; so the handle is read
// from the driver's connection, whose layout is checked first against the
// pinned duckdb-go: a changed layout is an error, not a crash.
func newArrowConn(ctx context.Context, conn *sql.Conn) (*arrowConn, error) {
	if err := checkConnLayout(); err != nil {
		return nil, err
	}
	a := &arrowConn{conn: conn}
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("arrow scan: the driver connection is a %T, not a *duckdb.Conn", dc)
		}
		a.handle = (*mapping.Connection)(unsafe.Pointer(c)).Ptr
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a.handle == nil {
		return nil, errors.New("arrow scan: the connection has no DuckDB handle")
	}
	if err := conn.QueryRowContext(ctx, `SELECT current_database()`).Scan(&a.main); err != nil {
		return nil, fmt.Errorf("arrow scan: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `ATTACH IF NOT EXISTS ':memory:' AS `+scratchDB); err != nil {
		return nil, fmt.Errorf("arrow scan: %w", err)
	}
	return a, nil
}

// checkConnLayout confirms that a *duckdb.Conn starts with its
// mapping.Connection, whose one field is the C handle.
func checkConnLayout() error {
	ct := reflect.TypeFor[duckdb.Conn]()
	mt := reflect.TypeFor[mapping.Connection]()
	if ct.NumField() == 0 || ct.Field(0).Offset != 0 || ct.Field(0).Type != mt ||
		mt.NumField() != 1 || mt.Field(0).Type.Kind() != reflect.UnsafePointer {
		return errors.New("arrow scan: duckdb-go's connection layout is not the one this build was written for")
	}
	return nil
}

// arrowView is a view made by arrowConn.view.
type arrowView struct {
	// Name is the view's qualified name, for SQL.
	Name  string
	conn  *sql.Conn
	freed bool
	free  func()
}

// Free frees the view's stream and the batches it holds: once the
// statement that reads it has returned, DuckDB has copied what it needs.
// The view must not be read again.
func (v *arrowView) Free() {
	if !v.freed {
		v.freed = true
		v.free()
	}
}

// Drop removes the view and frees its stream. It writes scratchDB, so it
// cannot run inside a transaction that writes the store.
func (v *arrowView) Drop() {
	v.conn.ExecContext(context.Background(), `DROP VIEW IF EXISTS `+v.Name)
	v.Free()
}

// view makes scratchDB.name a view over recs, which all have schema.
// DuckDB reads the stream once, so the view serves one statement, which
// must read every column: DuckDB passes a narrower projection to the
// stream, which cannot apply it, and would read the wrong columns.
// Creating the view writes to scratchDB, so it cannot be done inside a
// transaction that writes the store. The stream holds its own references
// to recs.
func (a *arrowConn) view(ctx context.Context, name string, schema *arrow.Schema, recs []arrow.RecordBatch) (*arrowView, error) {
	rr, err := array.NewRecordReader(schema, recs)
	if err != nil {
		return nil, err
	}
	stream := (*cdata.CArrowArrayStream)(C.calloc(1, C.size_t(unsafe.Sizeof(cdata.CArrowArrayStream{}))))
	cdata.ExportRecordReader(rr, stream)
	rr.Release() // the export holds its own reference
	free := func() {
		cdata.ReleaseCArrowArrayStream(stream)
		C.free(unsafe.Pointer(stream))
	}
	if _, err := a.conn.ExecContext(ctx, `USE `+scratchDB); err != nil {
		free()
		return nil, fmt.Errorf("arrow scan: %w", err)
	}
	cname := C.CString(name)
	state := C.duckdb_arrow_scan(a.handle, cname, unsafe.Pointer(stream))
	C.free(unsafe.Pointer(cname))
	_, err = a.conn.ExecContext(ctx, `USE `+quoteIdent(a.main))
	if state != 0 || err != nil {
		free()
		if err == nil {
			err = fmt.Errorf("DuckDB could not make the view %s", name)
		}
		return nil, fmt.Errorf("arrow scan: %w", err)
	}
	return &arrowView{Name: scratchDB + "." + name, conn: a.conn, free: free}, nil
}

// quoteIdent quotes s as a SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// cAllocator keeps Arrow buffers on C's heap: a Commit's batches hold
// hundreds of megabytes that the Go collector would otherwise scan, and
// let grow to twice their size before collecting. Buffers are zeroed, as
// Go's allocator leaves them, and must be released.
type cAllocator struct{}

func (cAllocator) Allocate(size int) []byte {
	if size == 0 {
		return nil
	}
	p := C.calloc(1, C.size_t(size))
	if p == nil {
		panic("arrow: out of memory")
	}
	return unsafe.Slice((*byte)(p), size)
}

func (a cAllocator) Reallocate(size int, b []byte) []byte {
	if cap(b) == 0 {
		return a.Allocate(size)
	}
	if size == 0 {
		a.Free(b)
		return nil
	}
	p := C.realloc(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(size))
	if p == nil {
		panic("arrow: out of memory")
	}
	out := unsafe.Slice((*byte)(p), size)
	if old := len(b); size > old {
		clear(out[old:])
	}
	return out
}

func (cAllocator) Free(b []byte) {
	if cap(b) > 0 {
		C.free(unsafe.Pointer(unsafe.SliceData(b)))
	}
}
