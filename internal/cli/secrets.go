package cli

import (
	"strings"

	"supervisor/internal/registry"
)

// password resolves p's PostgreSQL password (registry.ResolvePassword's
// order) and says in the log when the variable the product names is unset:
// the next source is used instead, which is a warning, not an error.
func (g *globals) password(p registry.Product) (registry.Password, error) {
	pw, err := registry.ResolvePassword(p, g.env.Getenv)
	if err != nil {
		return pw, err
	}
	if pw.UnsetEnv != "" {
		source := pw.Source
		if source == "" {
			source = "none"
		}
		g.logs.Product(p.Endpoint).Warn("the product's password variable is not set or empty; using the next source",
			"variable", pw.UnsetEnv, "source", source)
	}
	return pw, nil
}

// withPasswordHint adds pw's hint to reason when the server asked for the
// password nothing gave: the reason then names the product's variable.
func withPasswordHint(reason string, pw registry.Password) string {
	if h := pw.Hint(); h != "" && strings.Contains(strings.ToLower(reason), "password") {
		return reason + " (" + h + ")"
	}
	return reason
}
