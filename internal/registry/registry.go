// Package registry reads and edits the product registry in the config
// database. The config database is CodeChecker's own config schema (table
// products, one SQLAlchemy connection URL per product) plus our table
// supervisor_product_credentials (version 002), which names the environment
// variable holding a product's PostgreSQL password. A config database made
// by CodeChecker, without that table, can be read too.
package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"supervisor/internal/dbconn"
)

// credentialsTable is the table version 002 adds to the config schema.
const credentialsTable = "supervisor_product_credentials"

// defaultReportLimit is CodeChecker's default products.report_limit.
const defaultReportLimit = 500000

// envName is what an environment variable name may look like.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

type (
	// Product is one registered product.
	Product struct {
		// Endpoint is the product's URL path element and unique name.
		Endpoint string
		// DisplayName is the product's name in CodeChecker's web UI.
		DisplayName string
		// Description is free text, "" when there is none.
		Description string
		// Target is the product database: Dialect dbconn.SQLite with an
		// absolute Path, or dbconn.Postgres with Host, Port, User and
		// Database. Password is set only when CodeChecker stored one in the
		// URL.
		Target dbconn.Target
		// PasswordEnv names the environment variable holding the PostgreSQL
		// password, if the product names one.
		PasswordEnv string
		// Connection is the URL as the products table stores it, with any
		// password masked: what to show for a row whose Target is unusable.
		Connection string
		// Err, when set, is why this product cannot be worked on: its
		// connection cannot be read (wraps ErrInvalidConnection; Target is
		// then zero) or an earlier product, in endpoint order, uses the same
		// database (wraps ErrDatabaseInUse). The other products are unaffected.
		Err error
	}

	// Registry is the product registry of one config database.
	Registry struct {
		db      *sql.DB
		dialect dbconn.Dialect
		baseDir string
	}
)

// New wraps the config database db, already open and migrated by the caller.
// dialect is SQLite or Postgres ("postgresql" is read as Postgres); baseDir
// resolves relative SQLite paths, as CodeChecker's workspace does: it is the
// directory holding the config database.
func New(db *sql.DB, dialect dbconn.Dialect, baseDir string) *Registry {
	if d, ok := dbconn.ParseDialect(dialect.String()); ok {
		dialect = d
	}
	return &Registry{db: db, dialect: dialect, baseDir: baseDir}
}

// check reports a Registry that cannot work.
func (r *Registry) check() error {
	if r == nil || r.db == nil {
		return errors.New("registry has no config database")
	}
	if !r.dialect.Valid() {
		return fmt.Errorf("unknown config database dialect %q (want sqlite or postgres)", r.dialect)
	}
	return nil
}

// hasCredentials reports whether the config database has our credentials
// table (version 002 or later); CodeChecker's own config databases do not.
func (r *Registry) hasCredentials(ctx context.Context, q dbconn.Querier) (bool, error) {
	var ok bool
	if err := q.QueryRowContext(ctx, sqlOf(r.dialect).hasCredentials).Scan(&ok); err != nil {
		return false, fmt.Errorf("look for table %s: %w", credentialsTable, err)
	}
	return ok, nil
}

// selectProducts is the product query.
func (r *Registry) selectProducts(withCredentials bool) string {
	if !withCredentials {
		return dbconn.Rebind(r.dialect, `SELECT p.endpoint, p.connection, p.display_name, COALESCE(p.description, ''), ''
			FROM products p ORDER BY p.endpoint`)
	}
	return dbconn.Rebind(r.dialect, `SELECT p.endpoint, p.connection, p.display_name, COALESCE(p.description, ''), COALESCE(c.password_env, '')
		FROM products p LEFT JOIN `+credentialsTable+` c ON c.product_id = p.id ORDER BY p.endpoint`)
}

// products runs selectProducts and parses each row's connection URL; a row
// that does not parse keeps its error in Product.Err.
func (r *Registry) products(ctx context.Context, q dbconn.Querier) ([]Product, error) {
	creds, err := r.hasCredentials(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, r.selectProducts(creds))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []Product
	for rows.Next() {
		var p Product
		var conn string
		if err := rows.Scan(&p.Endpoint, &conn, &p.DisplayName, &p.Description, &p.PasswordEnv); err != nil {
			return nil, err
		}
		p.Connection = maskPassword(conn)
		if p.Target, p.Err = ParseConnection(conn, r.baseDir); p.Err != nil {
			p.Target = dbconn.Target{}
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Byte order whatever the server's collation: PostgreSQL's ORDER BY
	// follows the database's locale, SQLite's does not.
	slices.SortStableFunc(ps, func(a, b Product) int { return strings.Compare(a.Endpoint, b.Endpoint) })
	return ps, nil
}

// List returns every product, ordered by endpoint (byte order). One bad row
// does not fail the list: a product whose connection URL cannot be read, or
// whose database an earlier product already uses (a registry CodeChecker or
// an older supervisor let through), comes back with Product.Err set, so that
// product alone fails and the others can be worked on.
func (r *Registry) List(ctx context.Context) ([]Product, error) {
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	ps, err := r.products(ctx, r.db)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	markShared(ps)
	return ps, nil
}

// Get returns the product at endpoint, as List has it (Product.Err
// included), or an error wrapping ErrNotFound.
func (r *Registry) Get(ctx context.Context, endpoint string) (Product, error) {
	ps, err := r.List(ctx)
	if err != nil {
		return Product{}, fmt.Errorf("get product %q: %w", endpoint, err)
	}
	for _, p := range ps {
		if p.Endpoint == endpoint {
			return p, nil
		}
	}
	return Product{}, fmt.Errorf("get product %q: %w", endpoint, ErrNotFound)
}

// markShared sets Err on every product (in the order of ps) whose database
// an earlier readable product already uses, naming that product: two
// workers must never migrate one database at the same time.
func markShared(ps []Product) {
	var seen dbSet
	for i := range ps {
		if ps[i].Err != nil {
			continue
		}
		id := identify(ps[i].Target)
		if other, ok := seen.find(id); ok {
			ps[i].Err = fmt.Errorf("%w: %s is also the database of product %q", ErrDatabaseInUse, Location(ps[i].Target), other)
			continue
		}
		seen.add(id, ps[i].Endpoint)
	}
}

// Add registers p. Its endpoint must be valid (ValidateEndpoint) and free
// (else ErrExists), and no other product may use its database (else
// ErrDatabaseInUse). A relative SQLite path is made absolute against the
// registry's base directory, as CodeChecker stores absolute paths.
//
// The connection URL is written without any password (p.Target.Password is
// dropped); p.PasswordEnv goes into supervisor_product_credentials, which a
// config database older than our version 2 lacks: then Add fails with
// ErrConfigOutdated. The other columns get CodeChecker's defaults.
func (r *Registry) Add(ctx context.Context, p Product) error {
	if err := r.add(ctx, p, true); err != nil {
		return fmt.Errorf("add product %q: %w", p.Endpoint, err)
	}
	return nil
}

// CanAdd reports what Add would refuse p for, storing nothing: products
// add asks it before it connects to the product's database, and products
// import before it adds the first product.
func (r *Registry) CanAdd(ctx context.Context, p Product) error {
	if err := r.add(ctx, p, false); err != nil {
		return fmt.Errorf("add product %q: %w", p.Endpoint, err)
	}
	return nil
}

// add checks p and, with insert, stores it.
func (r *Registry) add(ctx context.Context, p Product, insert bool) error {
	if err := r.check(); err != nil {
		return err
	}
	if err := ValidateEndpoint(p.Endpoint); err != nil {
		return err
	}
	t := p.Target
	t.Password = ""
	if d, ok := dbconn.ParseDialect(t.Dialect.String()); ok {
		t.Dialect = d
	}
	if t.Dialect == dbconn.SQLite && t.Path != "" && t.Path != ":memory:" {
		path := t.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(r.baseDir, path)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("%w: SQLite path %q: %v", ErrInvalidConnection, t.Path, err)
		}
		t.Path = abs
	}
	if t.Dialect == dbconn.Postgres && t.Port == 0 {
		t.Port = dbconn.DefaultPort
	}
	if err := checkTarget(t); err != nil {
		return err
	}
	if p.PasswordEnv != "" {
		if t.Dialect != dbconn.Postgres {
			return fmt.Errorf("%w: a password variable (%s) applies to PostgreSQL products only", ErrInvalidPasswordEnv, p.PasswordEnv)
		}
		if !envName.MatchString(p.PasswordEnv) {
			return fmt.Errorf("%w: name %q (use letters, digits and _, not starting with a digit)", ErrInvalidPasswordEnv, p.PasswordEnv)
		}
	}
	display := p.DisplayName
	if display == "" {
		display = p.Endpoint
	}
	var description any // NULL when empty, as CodeChecker stores it
	if p.Description != "" {
		description = p.Description
	}

	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	creds, err := r.hasCredentials(ctx, tx)
	if err != nil {
		return err
	}
	if p.PasswordEnv != "" && !creds {
		return fmt.Errorf("store password variable: %w", ErrConfigOutdated)
	}
	existing, err := r.allTargets(ctx, tx)
	if err != nil {
		return err
	}
	for _, e := range existing {
		if e.endpoint == p.Endpoint {
			return ErrExists
		}
	}
	db := identify(t)
	for _, e := range existing {
		if e.err == nil && db.same(identify(e.target)) {
			return fmt.Errorf("%w: %s is the database of product %q", ErrDatabaseInUse, Location(t), e.endpoint)
		}
	}
	if !insert {
		return nil
	}

	var id int64
	err = tx.QueryRowContext(ctx, dbconn.Rebind(r.dialect, `INSERT INTO products
		(endpoint, connection, display_name, description, run_limit,
		 is_review_status_change_disabled, num_of_runs, confidentiality, report_limit)
		VALUES (?, ?, ?, ?, NULL, ?, 0, NULL, ?) RETURNING id`),
		p.Endpoint, FormatConnection(t), display, description, false, defaultReportLimit).Scan(&id)
	if err != nil {
		// Roll back first: with SQLite the pool may have just this connection.
		tx.Rollback() //nolint:errcheck // the insert error is the one to report
		return r.insertError(ctx, p.Endpoint, err)
	}
	if creds {
		// A credentials row of a product deleted while SQLite's foreign keys
		// were off would otherwise pass to this one, which reuses its id.
		if _, err := tx.ExecContext(ctx, dbconn.Rebind(r.dialect, `DELETE FROM `+credentialsTable+` WHERE product_id = ?`), id); err != nil {
			return fmt.Errorf("clear stale credentials: %w", err)
		}
	}
	if p.PasswordEnv != "" {
		if _, err := tx.ExecContext(ctx, dbconn.Rebind(r.dialect, `INSERT INTO `+credentialsTable+` (product_id, password_env) VALUES (?, ?)`), id, p.PasswordEnv); err != nil {
			return fmt.Errorf("store password variable: %w", err)
		}
	}
	return tx.Commit()
}

// insertError turns an insert that lost a race for the endpoint (the unique
// constraint fired) into ErrExists. It looks again outside the failed
// transaction, as PostgreSQL refuses queries inside one.
func (r *Registry) insertError(ctx context.Context, endpoint string, err error) error {
	var n int
	if qerr := r.db.QueryRowContext(ctx, dbconn.Rebind(r.dialect, `SELECT count(*) FROM products WHERE endpoint = ?`), endpoint).Scan(&n); qerr == nil && n > 0 {
		return ErrExists
	}
	return fmt.Errorf("insert: %w", err)
}

// registered is one existing product's endpoint and parsed database.
type registered struct {
	endpoint string
	target   dbconn.Target
	err      error
}

// allTargets reads every product's endpoint and database, keeping rows whose
// connection does not parse (with err set) so their endpoints still count.
func (r *Registry) allTargets(ctx context.Context, q dbconn.Querier) ([]registered, error) {
	rows, err := q.QueryContext(ctx, `SELECT endpoint, connection FROM products`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []registered
	for rows.Next() {
		var e registered
		var conn string
		if err := rows.Scan(&e.endpoint, &conn); err != nil {
			return nil, err
		}
		e.target, e.err = ParseConnection(conn, r.baseDir)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Remove unregisters the product at endpoint (ErrNotFound if there is none),
// with the rows CodeChecker's foreign keys delete along with it
// (permissions, background tasks, our credentials row). The product's
// database itself is never touched.
func (r *Registry) Remove(ctx context.Context, endpoint string) error {
	if err := r.remove(ctx, endpoint); err != nil {
		return fmt.Errorf("remove product %q: %w", endpoint, err)
	}
	return nil
}

func (r *Registry) remove(ctx context.Context, endpoint string) error {
	if err := r.check(); err != nil {
		return err
	}
	// One connection for the pragma and the transaction: PRAGMA foreign_keys
	// is per connection and cannot change inside a transaction.
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if sqlOf(r.dialect).foreignKeysPragma {
		// CodeChecker turns foreign keys on for every connection and relies on
		// the cascades from products; without them permissions would pass to
		// the next product that reuses this id.
		var on bool
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
			return fmt.Errorf("read foreign_keys pragma: %w", err)
		}
		if !on {
			if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = ON"); err != nil {
				return fmt.Errorf("enable foreign keys: %w", err)
			}
			defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = OFF") //nolint:errcheck // best effort: ON is harmless
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var id int64
	err = tx.QueryRowContext(ctx, dbconn.Rebind(r.dialect, `SELECT id FROM products WHERE endpoint = ?`), endpoint).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	creds, err := r.hasCredentials(ctx, tx)
	if err != nil {
		return err
	}
	if creds {
		// Explicit as well as cascaded, should foreign keys be off after all.
		if _, err := tx.ExecContext(ctx, dbconn.Rebind(r.dialect, `DELETE FROM `+credentialsTable+` WHERE product_id = ?`), id); err != nil {
			return fmt.Errorf("delete credentials: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, dbconn.Rebind(r.dialect, `DELETE FROM products WHERE id = ?`), id); err != nil {
		return err
	}
	return tx.Commit()
}
