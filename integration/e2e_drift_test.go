package integration

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"supervisor/internal/status"
)

// status --drift through the binary: products migrated and then altered by
// hand read drift with exactly what was done to them, in the table's lines
// and in --json, and the run exits 1; a migrated product and an adopted
// CodeChecker database read ok with an empty drift list. Plain status still
// trusts the revisions table, and neither run writes a product.
func TestE2EStatusDriftSQLite(t *testing.T) {
	w := newWorkspace(t)
	altered := map[string]struct {
		stmts []string
		want  string
	}{
		"index":  {[]string{"CREATE INDEX drift_ix_comments_author ON comments (author)"}, "extra index drift_ix_comments_author on comments"},
		"column": {[]string{"ALTER TABLE source_components DROP COLUMN username"}, "missing column source_components.username"},
		"type": {[]string{
			"CREATE TABLE new_run_locks (name VARCHAR NOT NULL, locked_at DATETIME NOT NULL, username INTEGER, CONSTRAINT pk_run_locks PRIMARY KEY (name))",
			"INSERT INTO new_run_locks SELECT name, locked_at, username FROM run_locks",
			"DROP TABLE run_locks",
			"ALTER TABLE new_run_locks RENAME TO run_locks",
		}, "column run_locks.username differs (type INTEGER, packaged VARCHAR)"},
		"table": {[]string{"DROP TABLE filter_presets"}, "missing table filter_presets"},
	}
	paths := map[string]string{}
	for endpoint := range altered {
		paths[endpoint] = w.Fixture(t, endpoint, "product-head.sqlite").Path
	}
	w.Fixture(t, "clean", "product-head.sqlite")
	w.Fixture(t, "adopted", "product-sample.sqlite")
	w.Close()
	if r := supervisor(t, w.Dir, "", nil, "migrate", "-y"); r.code != 0 {
		t.Fatalf("migrate:\n%s", r)
	}
	for endpoint, a := range altered {
		db := openSQLite(t, paths[endpoint])
		for _, s := range a.stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %s: %v", endpoint, s, err)
			}
		}
		db.Close()
	}
	before := map[string]string{}
	for endpoint, path := range paths {
		before[endpoint] = fileStateOf(t, path).sum
	}

	if r := supervisor(t, w.Dir, "", nil, "status"); r.code != 0 || strings.Contains(r.stdout, "drift") {
		t.Errorf("status without --drift: want exit 0 and no drift, got\n%s", r)
	}

	r := supervisor(t, w.Dir, "", nil, "status", "--drift", "--json")
	if r.code != 1 {
		t.Errorf("status --drift --json: exit %d, want 1\n%s", r.code, r)
	}
	var rows []struct {
		Endpoint string    `json:"endpoint"`
		Status   string    `json:"status"`
		Drift    *[]string `json:"drift"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("status --drift --json: %v\n%s", err, r)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6\n%s", len(rows), r)
	}
	for _, row := range rows {
		if row.Drift == nil {
			t.Errorf("%s: no drift array\n%s", row.Endpoint, r.stdout)
			continue
		}
		wantStatus, wantDrift := string(status.OK), []string{}
		if a, ok := altered[row.Endpoint]; ok {
			wantStatus, wantDrift = string(status.Drift), []string{a.want}
		}
		if row.Status != wantStatus || !slices.Equal(*row.Drift, wantDrift) {
			t.Errorf("%s: got %s %q, want %s %q", row.Endpoint, row.Status, *row.Drift, wantStatus, wantDrift)
		}
	}

	r = supervisor(t, w.Dir, "", nil, "status", "--drift")
	if r.code != 1 {
		t.Errorf("status --drift: exit %d, want 1\n%s", r.code, r)
	}
	for endpoint, a := range altered {
		for _, want := range []string{"[" + endpoint + "] drift from the packaged schema at 002:\n", "[" + endpoint + "]   " + a.want + "\n"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("status --drift output:\n%s\nwant %q", r.stdout, want)
			}
		}
	}
	if strings.Contains(r.stdout, "[clean]") || strings.Contains(r.stdout, "[adopted]") {
		t.Errorf("status --drift output:\n%s\nwant no lines for the clean products", r.stdout)
	}
	for endpoint, path := range paths {
		if fileStateOf(t, path).sum != before[endpoint] {
			t.Errorf("%s: status --drift changed the database", endpoint)
		}
	}
}
