// Command fleetgen makes supervisor workspaces full of product databases for
// the demo, benchmarks and by-hand testing.
//
//	fleetgen -w demo/workspace --demo
//	fleetgen -w /tmp/ws --products 200 --reports 1000 --version latest
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/dbconn"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "fleetgen: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("w", "workspace", "workspace directory (created)")
	demo := flag.Bool("demo", false, "make the demo fleet: products at different versions, a CodeChecker database, a missing and a broken one")
	products := flag.Int("products", 0, "make N SQLite products (copies of one generated template)")
	reports := flag.Int("reports", 1000, "reports per product")
	version := flag.String("version", "latest", `schema version of the products ("latest", "001", ...)`)
	garbage := flag.Float64("garbage", 0, "fraction of files that are garbage (0 = the generator's default)")
	prefix := flag.String("prefix", "p", "endpoint prefix for --products")
	fixtures := flag.String("fixtures", "testdata/codechecker", "directory of the CodeChecker-made databases (for --demo)")
	pgHost := flag.String("pg-host", "", "make the --products as databases on this PostgreSQL server instead of SQLite files")
	pgPort := flag.Int("pg-port", 5432, "PostgreSQL port (with --pg-host)")
	pgUser := flag.String("pg-user", "postgres", "PostgreSQL user (with --pg-host); the password comes from PGPASSWORD")
	flag.Parse()

	ctx := context.Background()
	start := time.Now()
	ws, err := workspace.Create(ctx, *dir)
	if err != nil {
		return err
	}
	defer ws.Close()
	opts := fleet.Options{Reports: *reports, Garbage: *garbage, Seed: 1}
	if *products > 0 && *pgHost != "" {
		server := dbconn.Target{Dialect: "postgres", Host: *pgHost, Port: *pgPort, User: *pgUser, Password: os.Getenv("PGPASSWORD")}
		for i := 0; i < *products; i++ {
			t := server
			t.Database = fmt.Sprintf("%s%03d", *prefix, i)
			if err := workspace.CreatePostgresDatabase(ctx, server, t.Database, true); err != nil {
				return err
			}
			o := opts
			o.Seed = int64(i + 1)
			if _, err := workspace.MakeProduct(ctx, t, *version, o); err != nil {
				return fmt.Errorf("%s: %w", t.Database, err)
			}
			t.Password = ""
			if err := ws.Add(ctx, t.Database, t, ""); err != nil {
				return err
			}
		}
		fmt.Printf("fleetgen: %d PostgreSQL products × %d reports at version %s on %s:%d (%s)\n", *products, *reports, *version, *pgHost, *pgPort, time.Since(start).Round(time.Millisecond))
	} else if *products > 0 {
		if _, err := ws.CopyProducts(ctx, filepath.Join(ws.Dir, "products"), *prefix, *products, *version, opts); err != nil {
			return err
		}
		fmt.Printf("fleetgen: %d products × %d reports at version %s in %s (%s)\n", *products, *reports, *version, ws.Dir, time.Since(start).Round(time.Millisecond))
	}
	if *demo {
		if err := makeDemo(ctx, ws, *fixtures); err != nil {
			return err
		}
		fmt.Printf("fleetgen: demo workspace in %s (%s)\n", ws.Dir, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// makeDemo registers a small fleet that shows every common state.
func makeDemo(ctx context.Context, ws *workspace.Workspace, fixtures string) error {
	sqlite := func(name string) dbconn.Target {
		return dbconn.Target{Dialect: "sqlite", Path: filepath.Join(ws.Dir, name+".sqlite")}
	}
	for _, p := range []struct {
		endpoint, version string
		reports           int
	}{
		{"acme-server", "latest", 3000},
		{"libacme", "001", 3000},
		{"libacme-release", "001", 1500},
	} {
		t := sqlite(p.endpoint)
		os.Remove(t.Path)
		if _, err := workspace.MakeProduct(ctx, t, p.version, fleet.Options{Reports: p.reports, Seed: int64(len(p.endpoint))}); err != nil {
			return fmt.Errorf("%s: %w", p.endpoint, err)
		}
		if err := ws.Add(ctx, p.endpoint, t, ""); err != nil {
			return err
		}
	}
	// A database made by CodeChecker itself, with content and garbage.
	cc := sqlite("codechecker-sample")
	if err := workspace.CopyFile(filepath.Join(fixtures, "product-sample.sqlite"), cc.Path); err != nil {
		return fmt.Errorf("the CodeChecker-made product (run from the checkout, or name the directory with --fixtures): %w", err)
	}
	if err := ws.Add(ctx, "codechecker-sample", cc, ""); err != nil {
		return err
	}
	// Registered but never created: migrate initialises it.
	if err := ws.Add(ctx, "newcomer", sqlite("newcomer"), ""); err != nil {
		return err
	}
	// Not a database at all.
	broken := sqlite("broken")
	if err := os.WriteFile(broken.Path, []byte(rand.Text()+rand.Text()+rand.Text()), 0o644); err != nil {
		return err
	}
	return ws.Add(ctx, "broken", broken, "")
}
