package migrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	"supervisor/schema"
)

// The PostgreSQL lock is shared by migrate and cleanup: a wait for it that
// runs out says another supervisor works on the database, not that one
// migrates it (a cleanup waiting behind a cleanup was told so).
func TestLockTimeoutPostgresDoesNotClaimMigration(t *testing.T) {
	c := pgtest.Start(t)
	db := openPostgres(t, c, "locked")
	ctx := context.Background()
	unlock, err := migrate.Lock(ctx, db, "postgres", schema.Product, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(ctx)
	_, err = migrate.Lock(ctx, db, "postgres", schema.Product, 300*time.Millisecond)
	if !errors.Is(err, migrate.ErrLockTimeout) {
		t.Fatalf("second Lock = %v, want ErrLockTimeout", err)
	}
	if msg := err.Error(); strings.Contains(msg, "migrat") || !strings.Contains(msg, "another supervisor is working on this database") {
		t.Errorf("second Lock = %q, want it to say another supervisor works on the database, nothing of migrating", msg)
	}
}
