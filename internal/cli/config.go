package cli

import (
	"supervisor/internal/dbconn"
	"supervisor/internal/pass"
)

// configLocation is where the config database is (--config-db, else in
// the workspace) and what resolves relative SQLite product paths.
func (inv *invocation) configLocation() (dbconn.Target, string, error) {
	return pass.ConfigLocation(inv.configDB, inv.workspace)
}

// passOptions are the options of a pass over the products that every command
// shares; the command adds its own.
func (inv *invocation) passOptions(selected, excluded []string, jobs int) (pass.Options, error) {
	t, base, err := inv.configLocation()
	if err != nil {
		return pass.Options{}, err
	}
	return pass.Options{
		Config: t, BaseDir: base, Selected: selected, Excluded: excluded, Jobs: jobs,
		Executable: inv.env.Executable, Getenv: inv.env.Getenv, Logs: inv.logs,
	}, nil
}
