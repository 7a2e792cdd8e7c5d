package dbconn_test

import (
	"testing"

	"supervisor/internal/dbconn"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		dialect dbconn.Dialect
		q, want string
	}{
		{dbconn.SQLite, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = ? AND c = ?"},
		{dbconn.Postgres, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{dbconn.Postgres, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
		{dbconn.Postgres, "a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{dbconn.Postgres, "SELECT 1", "SELECT 1"},
		{dbconn.Postgres, "DELETE FROM t WHERE é = ?", "DELETE FROM t WHERE é = $1"},
	}
	for _, tt := range tests {
		if got := dbconn.Rebind(tt.dialect, tt.q); got != tt.want {
			t.Errorf("Rebind(%s, %q) = %q, want %q", tt.dialect, tt.q, got, tt.want)
		}
	}
}
