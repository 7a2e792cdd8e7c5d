package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/testutil"
)

// endpoints returns the endpoints of ps in order.
func endpoints(ps []Product) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Endpoint)
	}
	return out
}

// connectionOf reads the stored connection URL of endpoint.
func connectionOf(t *testing.T, db *sql.DB, endpoint string) string {
	t.Helper()
	var conn string
	if err := db.QueryRow("SELECT connection FROM products WHERE endpoint = ?", endpoint).Scan(&conn); err != nil {
		t.Fatalf("connection of %q: %v", endpoint, err)
	}
	return conn
}

func TestAddListGetRemove(t *testing.T) {
	ctx := context.Background()
	db, dir := newSQLiteConfig(t, 2)
	reg := New(db, dbconn.SQLite, dir)

	if ps, err := reg.List(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("List on a new config = %v, %v; want no products", ps, err)
	}

	pgProduct := Product{
		Endpoint:    "zeta",
		DisplayName: "Zeta on PostgreSQL",
		Description: "the big one",
		Target:      dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5433, User: "cc", Database: "zeta", Password: "hunter2"},
		PasswordEnv: "ZETA_PW",
	}
	add := []Product{
		{Endpoint: "Default", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dir, "Default.sqlite")}},
		pgProduct,
		{Endpoint: "alpha", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "products/alpha.sqlite"}, Description: ""},
		{Endpoint: "Beta-2", DisplayName: "Beta", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Database: "beta"}},
	}
	for _, p := range add {
		if err := reg.Add(ctx, p); err != nil {
			t.Fatalf("Add(%q): %v", p.Endpoint, err)
		}
	}

	ps, err := reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Byte order: upper case first.
	if got, want := endpoints(ps), []string{"Beta-2", "Default", "alpha", "zeta"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("List endpoints = %v, want %v", got, want)
	}
	wantZeta := pgProduct
	wantZeta.Target.Password = "" // never stored
	wantZeta.Connection = "postgresql+psycopg2://cc@db.example:5433/zeta"
	if ps[3] != wantZeta {
		t.Errorf("List()[3] = %+v, want %+v", ps[3], wantZeta)
	}
	wantAlpha := Product{Endpoint: "alpha", DisplayName: "alpha",
		Target:     dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dir, "products", "alpha.sqlite")},
		Connection: "sqlite+pysqlite:///" + filepath.Join(dir, "products", "alpha.sqlite")}
	if ps[2] != wantAlpha {
		t.Errorf("List()[2] = %+v, want %+v (display name defaults to endpoint, path made absolute)", ps[2], wantAlpha)
	}
	if ps[0].Target.Port != 5432 || ps[0].PasswordEnv != "" || ps[0].DisplayName != "Beta" {
		t.Errorf("List()[0] = %+v, want port 5432, no password variable, display name Beta", ps[0])
	}

	// What CodeChecker will read: absolute paths, its driver names, no password.
	if got, want := connectionOf(t, db, "alpha"), "sqlite+pysqlite:///"+filepath.Join(dir, "products", "alpha.sqlite"); got != want {
		t.Errorf("stored connection of alpha = %q, want %q", got, want)
	}
	if got, want := connectionOf(t, db, "zeta"), "postgresql+psycopg2://cc@db.example:5433/zeta"; got != want {
		t.Errorf("stored connection of zeta = %q, want %q", got, want)
	}
	var desc sql.NullString
	var disabled bool
	var runs, limit int
	var runLimit, conf sql.NullString
	if err := db.QueryRow(`SELECT description, is_review_status_change_disabled, num_of_runs, report_limit, run_limit, confidentiality
		FROM products WHERE endpoint = 'alpha'`).Scan(&desc, &disabled, &runs, &limit, &runLimit, &conf); err != nil {
		t.Fatal(err)
	}
	if desc.Valid || disabled || runs != 0 || limit != 500000 || runLimit.Valid || conf.Valid {
		t.Errorf("alpha columns: description %v, review change disabled %v, runs %d, report limit %d, run limit %v, confidentiality %v; "+
			"want NULL, false, 0, 500000, NULL, NULL", desc, disabled, runs, limit, runLimit, conf)
	}

	got, err := reg.Get(ctx, "zeta")
	if err != nil {
		t.Fatal(err)
	}
	if got != wantZeta {
		t.Errorf("Get(zeta) = %+v, want %+v", got, wantZeta)
	}
	if _, err := reg.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nope) error = %v, want ErrNotFound", err)
	}

	if err := reg.Remove(ctx, "zeta"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Remove(ctx, "zeta"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove(zeta) error = %v, want ErrNotFound", err)
	}
	var creds int
	if err := db.QueryRow("SELECT count(*) FROM supervisor_product_credentials").Scan(&creds); err != nil {
		t.Fatal(err)
	}
	if creds != 0 {
		t.Errorf("%d credentials rows left after removing the only product that had one", creds)
	}
	ps, err = reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := endpoints(ps), []string{"Beta-2", "Default", "alpha"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List after Remove = %v, want %v", got, want)
	}
}

func TestAddRefused(t *testing.T) {
	ctx := context.Background()
	db, dir := newSQLiteConfig(t, 2)
	reg := New(db, dbconn.SQLite, dir)
	first := Product{Endpoint: "prod", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dir, "prod.sqlite")}}
	if err := reg.Add(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(ctx, Product{Endpoint: "pg", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "Db.Example", Port: 5432, Database: "pg"}}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		product Product
		is      error
		want    string
	}{
		{"endpoint taken",
			Product{Endpoint: "prod", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dir, "other.sqlite")}},
			ErrExists, `add product "prod": product already exists`},
		{"same SQLite file",
			Product{Endpoint: "twin", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "./prod.sqlite"}},
			ErrDatabaseInUse, `is the database of product "prod"`},
		{"same PostgreSQL database",
			Product{Endpoint: "twin", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", User: "other", Database: "pg"}},
			ErrDatabaseInUse, `is the database of product "pg"`},
		{"bad endpoint",
			Product{Endpoint: "a b", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/x.sqlite"}},
			ErrInvalidEndpoint, "character ' ' at position 2"},
		{"no dialect",
			Product{Endpoint: "x", Target: dbconn.Target{Path: "/x.sqlite"}},
			ErrInvalidConnection, `unknown database dialect ""`},
		{"no SQLite path",
			Product{Endpoint: "x", Target: dbconn.Target{Dialect: dbconn.SQLite}},
			ErrInvalidConnection, "no SQLite database path"},
		{"SQLite path with ?",
			Product{Endpoint: "x", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/a?b.sqlite"}},
			ErrInvalidConnection, "contains '?'"},
		{"no PostgreSQL host",
			Product{Endpoint: "x", Target: dbconn.Target{Dialect: dbconn.Postgres, Database: "x"}},
			ErrInvalidConnection, "no PostgreSQL host"},
		{"bad PostgreSQL database name",
			Product{Endpoint: "x", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Database: "x;drop"}},
			ErrInvalidConnection, "character ';'"},
		{"password variable on SQLite",
			Product{Endpoint: "x", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/x.sqlite"}, PasswordEnv: "PW"},
			ErrInvalidPasswordEnv, "PostgreSQL products only"},
		{"bad password variable",
			Product{Endpoint: "x", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Database: "x"}, PasswordEnv: "1PW"},
			ErrInvalidPasswordEnv, `invalid password variable: name "1PW"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := reg.Add(ctx, tt.product)
			if err == nil {
				t.Fatalf("Add(%+v) = nil, want an error containing %q", tt.product, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Add error = %v, want it to wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Add error = %q, want it to contain %q", err, tt.want)
			}
			if cerr := reg.CanAdd(ctx, tt.product); cerr == nil || cerr.Error() != err.Error() {
				t.Errorf("CanAdd error = %v, want Add's: %v", cerr, err)
			}
		})
	}
	ps, err := reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := endpoints(ps), []string{"pg", "prod"}; !reflect.DeepEqual(got, want) {
		t.Errorf("products after refused adds = %v, want %v", got, want)
	}
}

// CanAdd says nil for a product Add would take, and stores nothing.
func TestCanAddStoresNothing(t *testing.T) {
	ctx := context.Background()
	db, dir := newSQLiteConfig(t, 2)
	reg := New(db, dbconn.SQLite, dir)
	p := Product{Endpoint: "new", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Database: "new"}, PasswordEnv: "NEW_PW"}
	if err := reg.CanAdd(ctx, p); err != nil {
		t.Fatalf("CanAdd(%+v) = %v, want nil", p, err)
	}
	ps, err := reg.List(ctx)
	if err != nil || len(ps) != 0 {
		t.Errorf("products after CanAdd = %v, %v; want none", endpoints(ps), err)
	}
	if err := reg.Add(ctx, p); err != nil {
		t.Errorf("Add after CanAdd = %v, want nil", err)
	}
}

// TestRemoveCascades checks that Remove takes the rows that hang off a
// product with it even on a connection without foreign keys, so that a new
// product reusing the id inherits neither permissions nor a password variable.
func TestRemoveCascades(t *testing.T) {
	ctx := context.Background()
	_, dir := newSQLiteConfig(t, 2)
	db := openSQLite(t, filepath.Join(dir, "config.sqlite"), false)
	db.SetMaxOpenConns(1) // as dbconn opens SQLite
	reg := New(db, dbconn.SQLite, dir)

	pg := Product{Endpoint: "old", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Database: "old"}, PasswordEnv: "OLD_PW"}
	if err := reg.Add(ctx, pg); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO permissions_product (permission, product_id, name, is_group)
		SELECT 'PRODUCT_ADMIN', id, 'alice', 0 FROM products WHERE endpoint = 'old'`); err != nil {
		t.Fatal(err)
	}
	if err := reg.Remove(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	var perms, creds int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM permissions_product), (SELECT count(*) FROM supervisor_product_credentials)`).
		Scan(&perms, &creds); err != nil {
		t.Fatal(err)
	}
	if perms != 0 || creds != 0 {
		t.Errorf("after Remove: %d permissions and %d credentials rows left, want none", perms, creds)
	}
	var fk bool
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if fk {
		t.Error("Remove left foreign keys on for a connection that had them off")
	}
	if err := reg.Add(ctx, Product{Endpoint: "new", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Database: "new"}}); err != nil {
		t.Fatal(err)
	}
	got, err := reg.Get(ctx, "new")
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordEnv != "" {
		t.Errorf("new product inherited password variable %q", got.PasswordEnv)
	}
}

// TestCodeCheckerConfig reads a config database made by CodeChecker itself,
// which has no supervisor_product_credentials table.
func TestCodeCheckerConfig(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.sqlite")
	testutil.CopyFile(t, testutil.Fixture("config-head.sqlite"), path)
	db := openSQLite(t, path, true)
	// As CodeChecker's addProduct inserts them (SQLAlchemy names every column).
	for _, row := range []struct{ endpoint, conn, name string }{
		{"prod1", "postgresql+psycopg2://cc:secret@db.example:5433/prod1?client_encoding=utf8", "Product one"},
		{"abs", "sqlite:////abs/x.sqlite", "abs"},
		{"Default", "sqlite+pysqlite:///Default.sqlite", "Default"},
	} {
		if _, err := db.Exec(`INSERT INTO products (endpoint, connection, display_name, description, run_limit,
			is_review_status_change_disabled, confidentiality, report_limit) VALUES (?, ?, ?, NULL, NULL, 0, 'CONFIDENTIAL', 500000)`,
			row.endpoint, row.conn, row.name); err != nil {
			t.Fatal(err)
		}
	}
	reg := New(db, dbconn.SQLite, dir)
	ps, err := reg.List(ctx)
	if err != nil {
		t.Fatalf("List on a CodeChecker config: %v", err)
	}
	want := []Product{
		{Endpoint: "Default", DisplayName: "Default", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dir, "Default.sqlite")},
			Connection: "sqlite+pysqlite:///Default.sqlite"},
		{Endpoint: "abs", DisplayName: "abs", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/abs/x.sqlite"}, Connection: "sqlite:////abs/x.sqlite"},
		{Endpoint: "prod1", DisplayName: "Product one", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5433,
			User: "cc", Password: "secret", Database: "prod1"},
			Connection: "postgresql+psycopg2://cc:***@db.example:5433/prod1?client_encoding=utf8"},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("List = %+v\nwant %+v", ps, want)
	}
	if p, err := reg.Get(ctx, "prod1"); err != nil || p != want[2] {
		t.Errorf("Get(prod1) = %+v, %v; want %+v", p, err, want[2])
	}

	// Without our table a password variable cannot be stored; the rest works.
	err = reg.Add(ctx, Product{Endpoint: "pw", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Database: "pw"}, PasswordEnv: "PW"})
	if !errors.Is(err, ErrConfigOutdated) || !strings.Contains(err.Error(), "supervisor migrate") {
		t.Errorf("Add with password variable on a CodeChecker config = %v, want ErrConfigOutdated naming supervisor migrate", err)
	}
	if err := reg.Add(ctx, Product{Endpoint: "plain", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Database: "plain"}}); err != nil {
		t.Errorf("Add without password variable on a CodeChecker config: %v", err)
	}
	if err := reg.Remove(ctx, "prod1"); err != nil {
		t.Errorf("Remove on a CodeChecker config: %v", err)
	}
	ps, err = reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := endpoints(ps), []string{"Default", "abs", "plain"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
}

// One unreadable row fails that product alone: the others are listed as
// usual, and the bad one keeps its endpoint, its stored URL (password
// masked) and the reason.
func TestListBadConnectionFailsThatProductOnly(t *testing.T) {
	db, dir := newSQLiteConfig(t, 2)
	reg := New(db, dbconn.SQLite, dir)
	good := Product{Endpoint: "good", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dir, "good.sqlite")}}
	if err := reg.Add(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	for _, row := range [][2]string{{"broken", "mysql://u:secret@h/db"}, {"malformed", "postgresql://u:secret@h:54x2/db"}} {
		if _, err := db.Exec(`INSERT INTO products (endpoint, connection, display_name) VALUES (?, ?, 'b')`, row[0], row[1]); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := reg.List(context.Background())
	if err != nil {
		t.Fatalf("List with unparsable rows = %v, want the products", err)
	}
	if got, want := endpoints(ps), []string{"broken", "good", "malformed"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	for _, tt := range []struct {
		p          Product
		conn, want string
	}{
		{ps[0], "mysql://u:***@h/db", `unsupported database type "mysql"`},
		{ps[2], "postgresql://u:***@h:54x2/db", `invalid port "54x2"`},
	} {
		if !errors.Is(tt.p.Err, ErrInvalidConnection) || !strings.Contains(tt.p.Err.Error(), tt.want) || strings.Contains(tt.p.Err.Error(), "secret") {
			t.Errorf("%s: Err = %v, want ErrInvalidConnection saying %q, without the password", tt.p.Endpoint, tt.p.Err, tt.want)
		}
		if tt.p.Connection != tt.conn {
			t.Errorf("%s: Connection = %q, want %q", tt.p.Endpoint, tt.p.Connection, tt.conn)
		}
	}
	if ps[1].Err != nil || ps[1].Target != good.Target {
		t.Errorf("good = %+v, want it readable at %+v", ps[1], good.Target)
	}
}

// sqliteSpellings makes, in dir, a file and the other names it goes by.
func sqliteSpellings(t *testing.T, dir string) (file, symlink, hardlink, dirLink string) {
	t.Helper()
	file = filepath.Join(dir, "real", "prod.sqlite")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	symlink, hardlink, dirLink = filepath.Join(dir, "sym.sqlite"), filepath.Join(dir, "hard.sqlite"), filepath.Join(dir, "linkdir")
	if err := os.Symlink(file, symlink); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(file, hardlink); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(file), dirLink); err != nil {
		t.Fatal(err)
	}
	return file, symlink, hardlink, dirLink
}

// Two products on one database, however it is spelled, are refused with the
// other product named.
func TestAddRefusesOneDatabaseTwice(t *testing.T) {
	ctx := context.Background()
	db, dir := newSQLiteConfig(t, 2)
	reg := New(db, dbconn.SQLite, dir)
	file, symlink, hardlink, dirLink := sqliteSpellings(t, dir)
	dangling := filepath.Join(dir, "dangling.sqlite")
	if err := os.Symlink(filepath.Join("real", "future.sqlite"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Product{
		{Endpoint: "prod", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: file}},
		{Endpoint: "future", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dir, "real", "future.sqlite")}},
		{Endpoint: "pg", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "localhost", Port: 5433, Database: "pg"}},
	} {
		if err := reg.Add(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		t     dbconn.Target
		other string
	}{
		{"symbolic link to the file", dbconn.Target{Dialect: dbconn.SQLite, Path: symlink}, "prod"},
		{"hard link to the file", dbconn.Target{Dialect: dbconn.SQLite, Path: hardlink}, "prod"},
		{"path through a linked directory", dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dirLink, "prod.sqlite")}, "prod"},
		{"unclean path", dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dir, "real", ".", "..", "real", "prod.sqlite")}, "prod"},
		{"file not created yet, through a linked directory", dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(dirLink, "future.sqlite")}, "future"},
		{"link to a file not created yet", dbconn.Target{Dialect: dbconn.SQLite, Path: dangling}, "future"},
		{"127.0.0.1 for localhost", dbconn.Target{Dialect: dbconn.Postgres, Host: "127.0.0.1", Port: 5433, Database: "pg"}, "pg"},
		{"::1 for localhost", dbconn.Target{Dialect: dbconn.Postgres, Host: "::1", Port: 5433, Database: "pg"}, "pg"},
		{"LOCALHOST for localhost", dbconn.Target{Dialect: dbconn.Postgres, Host: "LOCALHOST", Port: 5433, Database: "pg"}, "pg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := reg.Add(ctx, Product{Endpoint: "twin", Target: tt.t})
			if !errors.Is(err, ErrDatabaseInUse) || !strings.Contains(err.Error(), fmt.Sprintf("product %q", tt.other)) {
				t.Errorf("Add(%+v) = %v, want ErrDatabaseInUse naming product %q", tt.t, err, tt.other)
			}
		})
	}
	// Not one database: another port, another database, another file.
	for i, tgt := range []dbconn.Target{
		{Dialect: dbconn.Postgres, Host: "127.0.0.1", Port: 5434, Database: "pg"},
		{Dialect: dbconn.Postgres, Host: "127.0.0.1", Port: 5433, Database: "PG"},
		{Dialect: dbconn.Postgres, Host: "db.example", Port: 5433, Database: "pg"},
		{Dialect: dbconn.SQLite, Path: filepath.Join(dir, "real", "other.sqlite")},
	} {
		if err := reg.Add(ctx, Product{Endpoint: fmt.Sprintf("distinct%d", i), Target: tgt}); err != nil {
			t.Errorf("Add(%+v) = %v, want it accepted", tgt, err)
		}
	}
}

// A registry that already holds two products on one database (CodeChecker
// compares URLs as text) fails the later of the two, naming the other.
func TestListFailsTheLaterOfTwoOnOneDatabase(t *testing.T) {
	db, dir := newSQLiteConfig(t, 2)
	file, symlink, hardlink, _ := sqliteSpellings(t, dir)
	for _, row := range [][2]string{
		{"a", "sqlite:///" + file},
		{"b-sym", "sqlite:///" + symlink},
		{"c-hard", "sqlite:///" + hardlink},
		{"d-pg", "postgresql://cc@localhost:5432/x"},
		{"e-pg", "postgresql://cc@127.0.0.1/x"},
		{"f-other", "postgresql://cc@127.0.0.1/y"},
	} {
		if _, err := db.Exec(`INSERT INTO products (endpoint, connection, display_name) VALUES (?, ?, ?)`, row[0], row[1], row[0]); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := New(db, dbconn.SQLite, dir).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"b-sym": `product "a"`, "c-hard": `product "a"`, "e-pg": `product "d-pg"`}
	for _, p := range ps {
		w, dup := want[p.Endpoint]
		switch {
		case dup && (!errors.Is(p.Err, ErrDatabaseInUse) || !strings.Contains(p.Err.Error(), w)):
			t.Errorf("%s: Err = %v, want ErrDatabaseInUse naming %s", p.Endpoint, p.Err, w)
		case !dup && p.Err != nil:
			t.Errorf("%s: Err = %v, want none", p.Endpoint, p.Err)
		}
	}
}

func TestUnknownDialect(t *testing.T) {
	db, dir := newSQLiteConfig(t, 2)
	if _, err := New(db, "oracle", dir).List(context.Background()); err == nil || !strings.Contains(err.Error(), `"oracle"`) {
		t.Errorf("List with dialect oracle = %v, want an error naming it", err)
	}
}
