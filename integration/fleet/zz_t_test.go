package fleet

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"
)

func TestZZTime(t *testing.T) {
	if os.Getenv("FLEET_MEASURE") == "" {
		t.Skip()
	}
	db, _ := emptyProduct(t)
	s := time.Now()
	if _, err := Fill(context.Background(), db, Options{Dialect: DialectSQLite, Reports: 200000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	t.Log("fill", time.Since(s))
	var names []string
	var sum time.Duration
	for k, v := range DebugTimes {
		names = append(names, k)
		sum += v
	}
	sort.Slice(names, func(i, j int) bool { return DebugTimes[names[i]] > DebugTimes[names[j]] })
	for _, n := range names[:8] {
		t.Log(n, DebugTimes[n])
	}
	t.Log("sum", sum, "writer idle", DebugIdle, "steps", DebugSteps)
}
