package pgtest

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

var copyLine = regexp.MustCompile(`^COPY ([\w.]+) \((.*)\) FROM stdin;$`)

// DumpSQL turns a pg_dump script (as in testdata/codechecker/*.postgres.sql)
// into SQL a driver can execute: psql meta-commands (\restrict ...) are dropped
// and COPY ... FROM stdin blocks become INSERT statements.
func DumpSQL(dump string) (string, error) {
	var out strings.Builder
	lines := strings.Split(dump, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		m := copyLine.FindStringSubmatch(line)
		switch {
		case m != nil:
			for i++; i < len(lines) && lines[i] != `\.`; i++ {
				vals := strings.Split(lines[i], "\t")
				for j, v := range vals {
					switch {
					case v == `\N`:
						vals[j] = "NULL"
					case strings.Contains(v, `\`):
						return "", fmt.Errorf("COPY block for %s: escaped value %q is not supported", m[1], v)
					default:
						vals[j] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
					}
				}
				fmt.Fprintf(&out, "INSERT INTO %s (%s) VALUES (%s);\n", m[1], m[2], strings.Join(vals, ", "))
			}
			if i == len(lines) {
				return "", fmt.Errorf("COPY block for %s has no end", m[1])
			}
		case strings.HasPrefix(line, `\`):
		default:
			out.WriteString(line)
			out.WriteByte('\n')
		}
	}
	return out.String(), nil
}

// LoadDump executes the pg_dump script at path in database db.
func (c *Cluster) LoadDump(tb testing.TB, db, path string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	sql, err := DumpSQL(string(b))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	c.Exec(tb, db, sql)
}
