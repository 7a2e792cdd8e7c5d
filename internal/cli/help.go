package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"supervisor/internal/pass"
	"supervisor/internal/registry"
)

// finish adds the help and completion commands and makes the last touches
// to the whole tree, the commands of other files included: endpoint
// completion for every --product, and bool flags shown as plain flags.
func finish(root *cobra.Command, inv *invocation) {
	shellCommands(root)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("product") != nil {
			_ = c.RegisterFlagCompletionFunc("product", inv.completeEndpoints)
		}
		c.InitDefaultHelpFlag()
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Value.Type() == "bool" {
				f.Value = plainBool{f.Value}
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// plainBool is a bool flag's value without IsBoolFlag, which makes pflag
// show the flag as "--json[=true|false]". A bare --json still means true:
// pflag set NoOptDefVal "true" when the flag was added.
type plainBool struct{ pflag.Value }

// shellCommands adds cobra's help and completion commands, with our words:
// an unknown topic or shell is bad usage (exit 2), not a help text.
func shellCommands(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	examples := map[string]string{
		"bash":       "  source <(supervisor completion bash)",
		"zsh":        `  supervisor completion zsh > "${fpath[1]}/_supervisor"`,
		"fish":       "  supervisor completion fish | source",
		"powershell": "  supervisor completion powershell | Out-String | Invoke-Expression",
	}
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Use, c.Short, c.Long = "help [COMMAND]", "show the help of supervisor or of one command", ""
			c.Example = "  supervisor help\n  supervisor help status\n  supervisor help products add"
			c.Run = nil
			c.RunE = func(c *cobra.Command, args []string) error {
				cmd, rest, err := root.Find(args)
				if err != nil || len(rest) != 0 {
					return usagef("help: unknown command %q (see 'supervisor --help')", strings.Join(args, " "))
				}
				cmd.InitDefaultHelpFlag()
				return cmd.Help()
			}
		case "completion":
			c.Short = "print the shell completion script for bash, zsh or fish"
			c.Example = examples["bash"] + "\n" + examples["zsh"] + "\n" + examples["fish"]
			c.Args, c.RunE = cobra.ArbitraryArgs, groupRun
			for _, sh := range c.Commands() {
				sh.Example, sh.Args = examples[sh.Name()], noArgs("")
			}
		}
	}
}

// completeEndpoints completes a product endpoint from the workspace's config
// database, read as 'status' reads it; any error completes nothing.
func (inv *invocation) completeEndpoints(c *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	opts, err := inv.passOptions(nil, 1)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	fleet, err := pass.Open(c.Context(), opts, pass.Setup{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	for _, p := range fleet.Products {
		if strings.HasPrefix(p.Endpoint, toComplete) {
			out = append(out, cobra.CompletionWithDesc(p.Endpoint, registry.Location(p.Target)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
