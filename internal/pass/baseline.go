package pass

import (
	"fmt"
	"strings"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/schema"
)

// checkBaseline refuses, as bad usage, a --baseline version that is not
// packaged for every dialect ("" is no baseline), and a baseline with a
// rollout (--to, canaries, stages): a baseline executes nothing to roll out.
func checkBaseline(version string, r Rollout) error {
	if version == "" {
		return nil
	}
	if r.ToVersion != "" || len(r.Canary) > 0 || r.CanaryCount > 0 || r.StagesFile != "" {
		return usagef("--baseline goes with none of --to, --canary, --canary-count and --stages")
	}
	for _, d := range []dbconn.Dialect{dbconn.SQLite, dbconn.Postgres} {
		ok, err := migrate.PackagedVersion(schema.Product, d, version)
		if err != nil {
			return err
		}
		if !ok {
			latest, _ := migrate.LatestVersion(schema.Product, d)
			return usagef("--baseline %s: not a packaged product schema version (the latest is %s)", version, latest)
		}
	}
	return nil
}

// baselineTurn is Fleet.turn for migrate --baseline version: a product
// whose intact revisions say it is at version has nothing to repair; one
// that could not be read, or does not exist, cannot be compared; any other
// is asked about, and its worker compares its schema with the packaged one
// at version before it writes anything (migrate.Baseline).
func baselineTurn(st State, version string) (question, refusal string) {
	switch {
	case st.Status == status.OK && st.DBVersion == version:
		return "", ""
	case st.Status == status.FailedToConnect:
		return "", strings.TrimSpace(st.Status.Message() + " " + st.Reason)
	case st.Status == status.Missing:
		return "", "the database does not exist: there is no schema to record as " + version
	}
	return fmt.Sprintf("Do you want to record '%s' as being at version %s (nothing is executed)?", st.Endpoint, version), ""
}
