package report

import (
	"bytes"
	"testing"
)

func TestTable(t *testing.T) {
	tests := []struct {
		name string
		rows [][]string
		want string
	}{
		{
			name: "header only",
			rows: [][]string{{"A", "Bee"}},
			want: "" +
				"--+----\n" +
				"A | Bee\n" +
				"--+----\n" +
				"--+----\n",
		},
		{
			name: "widest cell wins, last column not padded",
			rows: [][]string{{"Product", "St", "V"}, {"p", "a long status", "1"}, {"longer endpoint", "x", ""}},
			want: "" +
				"----------------+---------------+--\n" +
				"Product         | St            | V\n" +
				"----------------+---------------+--\n" +
				"p               | a long status | 1\n" +
				"longer endpoint | x             |\n" +
				"----------------+---------------+--\n",
		},
		{
			name: "width in characters, not bytes",
			rows: [][]string{{"Név", "X"}, {"ünïcödé", "y"}, {"a", "z"}},
			want: "" +
				"--------+--\n" +
				"Név     | X\n" +
				"--------+--\n" +
				"ünïcödé | y\n" +
				"a       | z\n" +
				"--------+--\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			Table(&b, tt.rows)
			if b.String() != tt.want {
				t.Errorf("printTable =\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}
