// Command floor is B2's in-process floor (BENCHMARKS.md): it upgrades the
// SQLite product files it is given to the packaged schema one after another,
// in this one process, with internal/migrate as a worker does (open, take
// the lock, inspect, apply the pending files one transaction each), but
// without the supervisor, its status passes and its worker processes. What
// `supervisor migrate -j 1` costs above this is the supervisor's overhead.
//
//	floor FILE.sqlite...
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/schema"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE.sqlite...")
		os.Exit(2)
	}
	ctx := context.Background()
	start := time.Now()
	for _, path := range os.Args[1:] {
		t0 := time.Now()
		res, err := upgrade(ctx, path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "floor: %s: %v\n", path, err)
			os.Exit(1)
		}
		fmt.Printf("%s: %s -> %s, %d files, %s\n", path, res.From, res.To, len(res.Applied), time.Since(t0).Round(time.Millisecond))
	}
	fmt.Printf("total: %d files in %s\n", len(os.Args)-1, time.Since(start).Round(time.Millisecond))
}

// upgrade opens path as a migrate worker does (one connection, immediate
// transactions) and applies what is pending.
func upgrade(ctx context.Context, path string) (migrate.Result, error) {
	db, err := dbconn.Open(ctx, dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{ImmediateTx: true})
	if err != nil {
		return migrate.Result{}, fmt.Errorf("open: %w", err)
	}
	defer db.Close()
	return migrate.Upgrade(ctx, db, dbconn.SQLite, schema.Product, migrate.Options{})
}
