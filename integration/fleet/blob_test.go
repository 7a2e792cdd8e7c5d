package fleet

import (
	"bytes"
	"compress/zlib"
	"database/sql"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"supervisor/internal/pgtest"
)

// TestBlobEncodingSQLite and TestBlobEncodingPostgres check every BLOB
// column of a generated product against blobColumns: the compressed ones
// inflate, the plain ones are valid UTF-8 and not zlib, each listed column
// holds data (so the check cannot pass on empty columns), and no BLOB column
// missing from the list holds any.
func TestBlobEncodingSQLite(t *testing.T) {
	t.Parallel()
	db, _ := emptyProduct(t)
	fill(t, db, Options{Dialect: DialectSQLite, Reports: 500, Seed: 3})
	checkBlobEncodings(t, db, blobColumnsOf(t, db, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND upper(p.type) = 'BLOB' ORDER BY 1, 2`))
}

func TestBlobEncodingPostgres(t *testing.T) {
	c := pgtest.Start(t)
	db := postgresProduct(t, c, c, "product_blobs")
	fill(t, db, Options{Dialect: DialectPostgres, Reports: 500, Seed: 3})
	checkBlobEncodings(t, db, blobColumnsOf(t, db, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type = 'bytea' ORDER BY 1, 2`))
}

// TestBlobColumnsAgreeWithCodeChecker derives each BLOB column's encoding
// from product-sample.sqlite, whose content follows CodeChecker's server
// (compressed file contents, plain review messages), and requires
// blobColumns to say the same: the list is checked against data CodeChecker
// can read, not against itself.
func TestBlobColumnsAgreeWithCodeChecker(t *testing.T) {
	t.Parallel()
	db := openSQLite(t, fixture(t, "product-sample.sqlite"))
	for col, listed := range blobColumns {
		table, name, _ := strings.Cut(col, ".")
		rows, err := db.Query(`SELECT "` + name + `" FROM ` + table + ` WHERE "` + name + `" IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[blobEncoding]int{}
		for rows.Next() {
			var v []byte
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			if _, err := inflate(v); err == nil {
				seen[zlibBlob]++
			} else {
				seen[plainBlob]++
			}
		}
		rows.Close()
		if seen[listed] == 0 || len(seen) != 1 {
			t.Errorf("%s: the CodeChecker-made sample holds %d zlib and %d plain values; blobColumns says %s",
				col, seen[zlibBlob], seen[plainBlob], map[blobEncoding]string{zlibBlob: "zlib", plainBlob: "plain"}[listed])
		}
	}
}

// blobColumnsOf lists "table.column" for the rows of query.
func blobColumnsOf(tb testing.TB, db *sql.DB, query string) []string {
	tb.Helper()
	rows, err := db.Query(query)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			tb.Fatal(err)
		}
		cols = append(cols, table+"."+col)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(cols) == 0 {
		tb.Fatalf("no BLOB columns found by %s", query)
	}
	return cols
}

func checkBlobEncodings(t *testing.T, db *sql.DB, schemaCols []string) {
	t.Helper()
	inSchema := map[string]bool{}
	for _, col := range schemaCols {
		inSchema[col] = true
		if _, listed := blobColumns[col]; listed {
			continue
		}
		table, name, _ := strings.Cut(col, ".")
		if n := queryInt(t, db, `SELECT COUNT(*) FROM `+table+` WHERE "`+name+`" IS NOT NULL`); n != 0 {
			t.Errorf("%s: %d values written, but the column is not in blobColumns", col, n)
		}
	}
	for col, enc := range blobColumns {
		if !inSchema[col] {
			t.Errorf("blobColumns lists %s, which is not a BLOB column of the schema", col)
			continue
		}
		table, name, _ := strings.Cut(col, ".")
		rows, err := db.Query(`SELECT "` + name + `" FROM ` + table + ` WHERE "` + name + `" IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var v []byte
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			n++
			text, inflateErr := inflate(v)
			switch enc {
			case zlibBlob:
				if inflateErr != nil {
					t.Errorf("%s: value %q does not inflate: %v", col, short(v), inflateErr)
				} else if !utf8.Valid(text) {
					t.Errorf("%s: inflated value %q is not UTF-8", col, short(text))
				}
			case plainBlob:
				if inflateErr == nil {
					t.Errorf("%s: value is zlib data (inflates to %q); CodeChecker stores it as plain UTF-8", col, short(text))
				} else if !utf8.Valid(v) {
					t.Errorf("%s: value %q is not UTF-8", col, short(v))
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if n == 0 {
			t.Errorf("%s: no values written, so its encoding is not checked", col)
		}
	}
}

func inflate(b []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func short(b []byte) []byte { return b[:min(len(b), 40)] }
