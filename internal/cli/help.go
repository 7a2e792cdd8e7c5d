package cli

import (
	"github.com/spf13/cobra"

	"supervisor/internal/pass"
	"supervisor/internal/registry"
)

// completeEndpoints completes a product endpoint from the workspace's config
// database, read as 'status' reads it; any error completes nothing.
func (inv *invocation) completeEndpoints(c *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	if opts, err := inv.passOptions(nil, nil, 1); err == nil {
		for _, p := range pass.Endpoints(c.Context(), opts, toComplete) {
			out = append(out, cobra.CompletionWithDesc(p.Endpoint, registry.Location(p.Target)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
