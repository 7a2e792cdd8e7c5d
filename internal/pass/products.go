package pass

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgconn"

	"supervisor/internal/dbconn"
	"supervisor/internal/registry"
	"supervisor/internal/status"
)

// ProductSpec is what products add says of a product besides its
// endpoint: where its database is (SQLite, or Postgres with Host, Port,
// User, Database and PasswordEnv), its names, and NoCheck, which skips
// reading the database before it is registered.
type ProductSpec struct {
	SQLite                            string
	Postgres, NoCheck                 bool
	Host, User, Database, PasswordEnv string
	Port                              int
	DisplayName, Description          string
}

// Product is the product s describes at endpoint. An invalid endpoint, or
// flags that contradict each other or say nothing of the database, are bad
// usage. A relative SQLite path is taken from the working directory.
func (s ProductSpec) Product(endpoint string) (registry.Product, error) {
	if err := registry.ValidateEndpoint(endpoint); err != nil {
		return registry.Product{}, usagef("%v", err)
	}
	p := registry.Product{Endpoint: endpoint, DisplayName: s.DisplayName, Description: s.Description, PasswordEnv: s.PasswordEnv}
	switch {
	case s.SQLite != "" && s.Postgres:
		return p, usagef("products add: give either --sqlite PATH or --postgresql, not both")
	case s.SQLite != "":
		if s.PasswordEnv != "" {
			return p, usagef("products add: --db-password-env applies to --postgresql products only")
		}
		path, err := filepath.Abs(s.SQLite)
		if err != nil {
			return p, err
		}
		p.Target = sqliteTarget(path)
	case s.Postgres:
		name := s.Database
		if name == "" {
			name = endpoint
		}
		p.Target = dbconn.Target{Dialect: dbconn.Postgres, Host: s.Host, Port: s.Port, User: s.User, Database: name}
	default:
		return p, usagef("products add: say where the database is: --sqlite PATH or --postgresql --db-host ... (see --help)")
	}
	if p.DisplayName == "" {
		p.DisplayName = endpoint
	}
	return p, nil
}

// AddProduct registers the product s describes at endpoint. What the
// registry refuses (a taken or invalid endpoint, a database another product
// uses, ...) is bad usage, found before the product's database is looked
// at. Unless s.NoCheck, the database is then read as status reads it
// (checkProduct), and the product is stored only if that check lets it.
func AddProduct(ctx context.Context, opts Options, endpoint string, s ProductSpec) error {
	p, err := s.Product(endpoint)
	if err != nil {
		return err
	}
	opts = newFleet(opts).opts
	cfg, err := OpenConfig(ctx, opts.Config, opts.BaseDir, false, opts.Getenv, opts.Logs)
	if err != nil {
		return err
	}
	defer cfg.Close()
	reg := cfg.Registry()
	if err := reg.CanAdd(ctx, p); err != nil {
		return registryError(cfg, "products add", err)
	}
	var attrs []any
	if !s.NoCheck {
		st, err := checkProduct(ctx, opts, p)
		if err != nil {
			return err
		}
		attrs = append(attrs, "status", st)
	}
	if err := reg.Add(ctx, p); err != nil {
		return registryError(cfg, "products add", err)
	}
	opts.Logs.Product(p.Endpoint).Info("product added", append([]any{"location", registry.Location(p.Target)}, attrs...)...)
	return nil
}

// checkProduct reads where p's database stands, as status would (read-only:
// a missing file stays missing), before products add stores p. What migrate
// can deal with later, or the operator must look at, is a warning and p is
// still added: a SQLite file that does not exist yet (migrate creates it),
// one that is not a SQLite database, a revision we cannot upgrade from, a
// server that cannot be reached now. One case is refused, as bad usage: the
// server asked for a password (it refused the connection with
// invalid_password) while the variable p names (--db-password-env) is unset
// or empty, so the product could not be worked on from this environment.
// That holds whether no other source gave a password or the one another
// gave (the URL, PGPASSWORD, a password file) was refused too. An unset
// variable with a server that takes the next source's password, or asks for
// none, is a warning only, as in every other command.
func checkProduct(ctx context.Context, opts Options, p registry.Product) (status.Status, error) {
	f := newFleet(opts)
	st := f.inspectProduct(ctx, p, Timeouts{Connect: dbconn.DefaultConnectTimeout, Lock: dbconn.DefaultConnectTimeout})
	if pw, err := registry.ResolvePassword(p, f.opts.Getenv); err == nil && pw.UnsetEnv != "" && passwordRefused(st.connectErr) {
		why := pw.Hint()
		if pw.Value != "" {
			why = fmt.Sprintf("environment variable %s (the product's --db-password-env) is not set or empty, and the server refused the password from %s", pw.UnsetEnv, pw.Source)
		}
		return st.Status, usagef("products add: the server of %s asks for a password: %s; set %s and add the product again (or add it with --no-check, should the variable be set only where the product is worked on)",
			st.Location, why, pw.UnsetEnv)
	}
	log := f.opts.Logs.Product(p.Endpoint)
	attrs := []any{"location", st.Location, "status", st.Status}
	if st.Reason != "" {
		attrs = append(attrs, "reason", st.Reason)
	}
	attrs = append(attrs, "advice", st.Status.Advice())
	switch st.Status {
	case status.OK:
	case status.SchemaMismatchOK:
		log.Info("the product's database: "+st.Message, attrs...)
	default:
		log.Warn("the product's database: "+st.Message+" (added all the same)", attrs...)
	}
	return st.Status, nil
}

// passwordRefused reports whether err is a PostgreSQL server's refusal of
// the password it asked for (SQLSTATE 28P01 invalid_password): with none
// given, pgx sends an empty one, and the server answers so.
func passwordRefused(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "28P01"
}

// ListProducts are the registered products, by endpoint, and with
// withStatus where each database stands (Inspect's states, Jobs at a time,
// in the same order; nil without).
func ListProducts(ctx context.Context, opts Options, withStatus bool) ([]registry.Product, []State, error) {
	f, err := Open(ctx, opts, Setup{})
	if err != nil {
		return nil, nil, err
	}
	if !withStatus {
		return f.Products, nil, nil
	}
	return f.Products, f.Inspect(ctx, Timeouts{Connect: dbconn.DefaultConnectTimeout, Lock: dbconn.DefaultConnectTimeout}), nil
}

// ImportProducts copies the products of the config database at from (the
// forms of --config-db: sqlite:PATH, a path ending in .sqlite, a postgres://
// URL without password) into the registry of opts.Config. Relative SQLite
// paths of the source are resolved as CodeChecker resolves them: against
// the directory of the source config database (the workspace, for a
// PostgreSQL one: opts.BaseDir). Each product keeps its endpoint, database,
// display name, description and password variable; the registry's other
// settings get CodeChecker's defaults, as products add gives them.
//
// Skipped, one log line each: an endpoint registered already, a database
// another product already uses (registry.ErrDatabaseInUse), a source row
// that cannot be read, and what the registry refuses for the product alone.
// A password stored in a source URL is never copied (we store none); the
// log says so. What stops the import as a whole (no source, a destination
// too old for password variables) is bad usage, found before anything is
// written.
func ImportProducts(ctx context.Context, opts Options, from string) error {
	opts = newFleet(opts).opts
	logs := opts.Logs
	if from == "" {
		return usagef("products import: --from URL is required (%s)", configForms)
	}
	src, srcBase, err := configLocation("--from", from, opts.BaseDir)
	if err != nil {
		return err
	}
	srcLoc := registry.Location(src)
	products, err := readProducts(ctx, src, srcBase, opts)
	if err != nil {
		return err
	}
	cfg, err := OpenConfig(ctx, opts.Config, opts.BaseDir, false, opts.Getenv, logs)
	if err != nil {
		return err
	}
	defer cfg.Close()
	reg := cfg.Registry()
	var todo []registry.Product
	for _, p := range products {
		log := logs.Product(p.Endpoint)
		if p.Err != nil {
			log.Warn("not imported: the source's row cannot be used", "from", srcLoc, "reason", p.Err.Error())
			continue
		}
		err := reg.CanAdd(ctx, p)
		switch {
		case err == nil:
			todo = append(todo, p)
		case errors.Is(err, registry.ErrExists):
			log.Info("not imported: the endpoint is registered already", "location", registry.Location(p.Target))
		case errors.Is(err, registry.ErrConfigOutdated):
			return usagef("products import: %v", err)
		case registry.IsInputError(err):
			log.Warn("not imported", "location", registry.Location(p.Target), "reason", err.Error())
		default:
			return fmt.Errorf("products import: %w", err)
		}
	}
	imported := 0
	for _, p := range todo {
		log := logs.Product(p.Endpoint)
		if err := reg.Add(ctx, p); registry.IsInputError(err) {
			// Taken since CanAdd looked (another process added it).
			log.Warn("not imported", "location", registry.Location(p.Target), "reason", err.Error())
			continue
		} else if err != nil {
			return cfg.WriteError("products import", err)
		}
		imported++
		log.Info("product imported", "location", registry.Location(p.Target), "from", srcLoc)
		if p.Target.Password != "" {
			log.Warn("the source's connection URL holds a password, which was not copied (the registry stores none): " +
				"give it in PGPASSWORD or a password file, or remove the product and add it again with --db-password-env")
		}
	}
	logs.Logger().Info("products imported", "from", srcLoc, "imported", imported, "skipped", len(products)-imported)
	return nil
}

// readProducts lists the products of the config database t (read-only;
// baseDir resolves its relative SQLite paths; opts' Getenv and Logs are
// set). Any failure is bad usage: nothing was written yet.
func readProducts(ctx context.Context, t dbconn.Target, baseDir string, opts Options) ([]registry.Product, error) {
	loc := registry.Location(t)
	if t.Dialect == dbconn.Postgres {
		pw, err := Password(registry.Product{Endpoint: "source config database", Target: t}, opts.Getenv, opts.Logs)
		if err != nil {
			return nil, usagef("products import: %v", err)
		}
		t.Password = pw.Value
	}
	db, err := dbconn.Open(ctx, t, dbconn.Options{ReadOnly: true, ConnectTimeout: dbconn.DefaultConnectTimeout})
	if errors.Is(err, dbconn.ErrMissing) {
		return nil, usagef("products import: no config database at %s", loc)
	}
	if err != nil {
		return nil, usagef("products import: config database %s: %v", loc, err)
	}
	defer db.Close()
	ps, err := registry.New(db, t.Dialect, baseDir).List(ctx)
	if err != nil {
		return nil, usagef("products import: config database %s: %v", loc, err)
	}
	return ps, nil
}
