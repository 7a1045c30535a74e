package render_test

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/trailbook/trailbook/internal/render"
)

func ExampleWrite() {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	rows, err := db.Query(`
		SELECT TIMESTAMP '2023-07-10 12:37:50' AS eventTime, 'ConsoleLogin' AS eventName,
			{'type': 'IAMUser', 'userName': 'alice'} AS userIdentity
		UNION ALL
		SELECT TIMESTAMP '2023-07-10 12:40:02.25', 'GetObject', NULL
		ORDER BY eventTime`)
	if err != nil {
		panic(err)
	}
	defer rows.Close()
	f, err := render.ParseFormat("table")
	if err != nil {
		panic(err)
	}
	n, err := render.Write(os.Stdout, f, rows)
	fmt.Println(n, err)
	// Output:
	// eventTime               | eventName    | userIdentity
	// ------------------------+--------------+--------------------------------------
	// 2023-07-10T12:37:50Z    | ConsoleLogin | {"type":"IAMUser","userName":"alice"}
	// 2023-07-10T12:40:02.25Z | GetObject    | NULL
	// (2 rows)
	// 2 <nil>
}
