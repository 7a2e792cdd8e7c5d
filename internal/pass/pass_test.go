package pass

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/internal/supervise"
	"supervisor/internal/usage"
)

func products(endpoints ...string) []registry.Product {
	var ps []registry.Product
	for _, e := range endpoints {
		ps = append(ps, registry.Product{Endpoint: e, Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/" + e}})
	}
	return ps
}

func endpoints(ps []registry.Product) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Endpoint)
	}
	return out
}

// TestSelectProducts: --product globs and --exclude globs pick products in
// endpoint order; a --product pattern matching nothing and a malformed
// pattern are usage errors and never widen to all; an --exclude matching
// nothing is fine (reported as unused).
func TestSelectProducts(t *testing.T) {
	all := products("Default", "a1", "ab", "alpha", "b[1]", "beta", "gamma")
	every := endpoints(all)
	tests := []struct {
		name               string
		all                []registry.Product
		selected, excluded []string
		want, wantUnused   []string
		wantErr            string
	}{
		{"none selected is all", all, nil, nil, every, nil, ""},
		{"empty selection is all", all, []string{}, []string{}, every, nil, ""},
		{"one", all, []string{"beta"}, nil, []string{"beta"}, nil, ""},
		{"endpoint order, not selection order", all, []string{"gamma", "Default", "beta"}, nil, []string{"Default", "beta", "gamma"}, nil, ""},
		{"twice is once", all, []string{"alpha", "alpha"}, nil, []string{"alpha"}, nil, ""},
		{"unknown", all, []string{"alpha", "nope"}, nil, nil, nil, `unknown product "nope"`},
		{"only unknown never widens", all, []string{"nope"}, nil, nil, nil, `unknown product "nope"`},
		{"case matters", all, []string{"default"}, nil, nil, nil, `unknown product "default"`},
		{"no products at all", nil, []string{"alpha"}, nil, nil, nil, `unknown product "alpha"`},

		{"star", all, []string{"a*"}, nil, []string{"a1", "ab", "alpha"}, nil, ""},
		{"question mark", all, []string{"a?"}, nil, []string{"a1", "ab"}, nil, ""},
		{"class", all, []string{"[bg]*"}, nil, []string{"b[1]", "beta", "gamma"}, nil, ""},
		{"negated class", all, []string{"a[^1]*"}, nil, []string{"ab", "alpha"}, nil, ""},
		{"range", all, []string{"a[0-9]"}, nil, []string{"a1"}, nil, ""},
		{"quoted bracket", all, []string{`b\[1]`}, nil, []string{"b[1]"}, nil, ""},
		{"overlapping globs in endpoint order", all, []string{"*a", "a*"}, nil, []string{"a1", "ab", "alpha", "beta", "gamma"}, nil, ""},
		{"glob and name", all, []string{"gamma", "a?"}, nil, []string{"a1", "ab", "gamma"}, nil, ""},
		{"star is every product", all, []string{"*"}, nil, every, nil, ""},
		{"glob matching nothing", all, []string{"alpha", "z*"}, nil, nil, nil, `--product "z*" matches no product`},
		{"glob on an empty registry", nil, []string{"*"}, nil, nil, nil, `--product "*" matches no product`},

		{"exclude one", all, nil, []string{"beta"}, []string{"Default", "a1", "ab", "alpha", "b[1]", "gamma"}, nil, ""},
		{"exclude a glob from a glob", all, []string{"a*"}, []string{"ab"}, []string{"a1", "alpha"}, nil, ""},
		{"exclude wins over --product", all, []string{"beta", "gamma"}, []string{"beta"}, []string{"gamma"}, nil, ""},
		{"exclude everything selected", all, []string{"a?"}, []string{"a*"}, nil, nil, ""},
		{"exclude matching nothing is fine", all, []string{"beta"}, []string{"zeta", "q*"}, []string{"beta"}, []string{"zeta", "q*"}, ""},
		{"exclude outside the selection is used", all, []string{"beta"}, []string{"gamma"}, []string{"beta"}, nil, ""},

		{"malformed --product", all, []string{"a["}, nil, nil, nil, `--product "a[": malformed pattern`},
		{"malformed after a match", all, []string{"a*["}, nil, nil, nil, `--product "a*[": malformed pattern`},
		{"malformed range", all, []string{"[z-"}, nil, nil, nil, `--product "[z-": malformed pattern`},
		{"trailing backslash", all, []string{`a\`}, nil, nil, nil, `--product "a\\": malformed pattern`},
		{"malformed --exclude", all, nil, []string{"[b"}, nil, nil, `--exclude "[b": malformed pattern`},
		{"malformed on an empty registry", nil, nil, []string{"]["}, nil, nil, `--exclude "][": malformed pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectProducts(tt.all, tt.selected, tt.excluded)
			if tt.wantErr != "" {
				if !usage.Is(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("selectProducts(%q, %q) error = %v, want a usage error %q", tt.selected, tt.excluded, err, tt.wantErr)
				}
				if got.products != nil || got.unused != nil {
					t.Errorf("selectProducts(%q, %q) = %+v with its error, want nothing", tt.selected, tt.excluded, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("selectProducts(%q, %q) = %v", tt.selected, tt.excluded, err)
			}
			if !slices.Equal(endpoints(got.products), tt.want) {
				t.Errorf("selectProducts(%q, %q) = %q, want %q", tt.selected, tt.excluded, endpoints(got.products), tt.want)
			}
			if !slices.Equal(got.unused, tt.wantUnused) {
				t.Errorf("unused excludes = %q, want %q", got.unused, tt.wantUnused)
			}
		})
	}
}

// A worker gets the allow-listed variables only: locale, time, the
// system's, Go's, the worker's own and libpq's that hold no secret. Every
// other variable of the operator's shell, whatever its name, stays out,
// and so do PGPASSWORD, PGSSLPASSWORD and the products' password variables.
func TestWorkerEnvAllowsOnlyTheListed(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin",
		"PGPASSWORD=global-secret",
		"ALPHA_PW=alpha-secret",
		"HOME=/home/op",
		"AWS_SECRET_ACCESS_KEY=aws-secret",
		"GITHUB_TOKEN=gh-secret",
		"PGSSLPASSWORD=key-secret",
		"LANG=C.UTF-8",
		"LC_ALL=C",
		"LC_MESSAGES=C",
		"TZ=UTC",
		"SUPERVISOR_WORKER=0",
		"SUPERVISOR_WORKER_LOG_LEVEL=debug",
		"SUPERVISOR_WORKSPACE=/ws",
		"PGHOST=db.example",
		"PGPORT=5433",
		"PGUSER=op",
		"PGSSLMODE=verify-full",
		"PGPASSFILE=/home/op/.pgpass",
		"PGPASSWORD_HINT=not-listed-secret",
		"BETA_PW=beta-secret",
		"PGAPPNAME=mine",
		"GOCOVERDIR=/cover",
		"ALPHA_PW=set twice secret",
	}
	ps := []registry.Product{
		{Endpoint: "alpha", PasswordEnv: "ALPHA_PW", Target: dbconn.Target{Dialect: dbconn.Postgres}},
		{Endpoint: "beta", PasswordEnv: "BETA_PW", Target: dbconn.Target{Dialect: dbconn.Postgres}},
		// A password variable whose name is on the list is still left out.
		{Endpoint: "delta", PasswordEnv: "PGAPPNAME", Target: dbconn.Target{Dialect: dbconn.Postgres}},
		{Endpoint: "gamma", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/g"}},
	}
	got := workerEnv(environ, ps)
	want := []string{
		"PATH=/usr/bin", "HOME=/home/op", "LANG=C.UTF-8", "LC_ALL=C", "LC_MESSAGES=C", "TZ=UTC",
		"SUPERVISOR_WORKER_LOG_LEVEL=debug", "PGHOST=db.example", "PGPORT=5433", "PGUSER=op",
		"PGSSLMODE=verify-full", "PGPASSFILE=/home/op/.pgpass", "GOCOVERDIR=/cover", "SUPERVISOR_WORKER=1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("workerEnv =\n%q\nwant\n%q", got, want)
	}
	for _, kv := range got {
		if strings.Contains(kv, "secret") {
			t.Errorf("workerEnv kept %q", kv)
		}
	}
	// No products: the marker is still set once, nothing unlisted kept.
	got = workerEnv([]string{"PGPASSWORD=x", "A=1", "SUPERVISOR_WORKER=1"}, nil)
	if want := []string{"SUPERVISOR_WORKER=1"}; !slices.Equal(got, want) {
		t.Errorf("workerEnv without products = %q, want %q", got, want)
	}
}

// TestOutcomeReasonIsOneLine: a worker error that spans lines (a driver's
// per-attempt errors) gives a one-line reason, so a summary row or status
// reason never spills over several table lines.
func TestOutcomeReasonIsOneLine(t *testing.T) {
	multi := "connect: failed to connect to `host=db user=u database=p`:\n\t127.0.0.1:5432 (db): server closed the connection\n\t[::1]:5432 (db): dial error"
	tests := []struct {
		name string
		o    supervise.Outcome
	}{
		{"worker result", supervise.Outcome{Result: &job.Result{Error: multi}, Err: supervise.ErrJobFailed}},
		{"supervisor error", supervise.Outcome{Err: errors.New(multi)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcomeReason(tt.o)
			if strings.ContainsAny(got, "\n\r\t") {
				t.Errorf("outcomeReason = %q, want one line", got)
			}
			if !strings.Contains(got, "server closed the connection") {
				t.Errorf("outcomeReason = %q, lost the cause", got)
			}
		})
	}
}

// A worker killed after it adopted its database as 001 records nothing: the
// summary row still says the versions the status tables say (before the
// run, after it), not "-". A product whose state could not be read after
// the run keeps what its worker said.
func TestSummaryVersionsFromStatusAfterKilledWorker(t *testing.T) {
	before := []State{
		{Endpoint: "adopted", Status: status.SchemaMismatchOK, DBVersion: "cc:abc"},
		{Endpoint: "unreachable", Status: status.SchemaMismatchOK, DBVersion: "001"},
		{Endpoint: "new", Status: status.Missing},
	}
	after := []State{
		{Endpoint: "adopted", Status: status.SchemaMismatchOK, DBVersion: "001"},
		{Endpoint: "unreachable", Status: status.FailedToConnect},
		{Endpoint: "new", Status: status.OK, DBVersion: "002"},
	}
	rows := []MigrateRow{
		{Endpoint: "adopted", Outcome: Failed, Reason: "worker killed"}, // no result record
		{Endpoint: "unreachable", From: "001", To: "002"},               // its record
		{Endpoint: "new", From: "", To: "001"},                          // stale record
	}
	want := [][2]string{{"cc:abc", "001"}, {"001", "002"}, {"", "002"}}
	for i := range rows {
		versionsFromStates(&rows[i], before, after)
		if got := [2]string{rows[i].From, rows[i].To}; got != want[i] {
			t.Errorf("%s: from/to = %q, want %q", rows[i].Endpoint, got, want[i])
		}
	}
}

func TestWithPasswordHint(t *testing.T) {
	unset := registry.Password{UnsetEnv: "PW"}
	tests := []struct {
		name, reason string
		pw           registry.Password
		wantHint     bool
	}{
		{"server asked, variable unset, nothing else", "FATAL: password authentication failed for user \"cc\"", unset, true},
		{"another failure", "connection refused", unset, false},
		{"a password was found elsewhere", "password authentication failed", registry.Password{Value: "x", Source: "PGPASSWORD", UnsetEnv: "PW"}, false},
		{"no variable named", "password authentication failed", registry.Password{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withPasswordHint(tt.reason, tt.pw)
			if named := strings.Contains(got, "environment variable PW"); named != tt.wantHint || !strings.HasPrefix(got, tt.reason) {
				t.Errorf("withPasswordHint(%q) = %q, want the variable named: %v", tt.reason, got, tt.wantHint)
			}
		})
	}
}
