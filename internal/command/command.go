// Package command is the cobra plumbing the supervisor's commands share:
// how a command is made (New), its operand checks (NoArgs, OneEndpoint),
// commands that only group others (Group), and the help and completion
// commands with our words (Finish). Every error it returns is a usage
// error (package usage): cobra prints none itself.
package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"supervisor/internal/usage"
)

// New is one of our commands: its line, summary, operands, what runs
// once its flags are parsed (nil: the caller sets RunE), and examples
// (whole command lines).
func New(use, short string, args cobra.PositionalArgs, run func(ctx context.Context, args []string) error, examples ...string) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: args, Example: "  " + strings.Join(examples, "\n  ")}
	if run != nil {
		c.RunE = func(c *cobra.Command, a []string) error { return run(c.Context(), a) }
	}
	return c
}

// Name is the command's path without "supervisor ": "products add".
func Name(c *cobra.Command) string {
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// NoArgs refuses operands; hint says what to do instead.
func NoArgs(hint string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != 0 {
			return usage.Errorf("%s: unexpected arguments %v%s", Name(c), args, hint)
		}
		return nil
	}
}

// OneEndpoint wants the product endpoint as the only operand.
func OneEndpoint(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usage.Errorf("%s: want exactly one ENDPOINT, got %d arguments", Name(c), len(args))
	}
	return nil
}

// Group runs a command that only groups others (products, completion):
// alone, or with a name that is none of them, it is bad usage.
func Group(c *cobra.Command, args []string) error {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(args) == 0 {
		fmt.Fprint(c.ErrOrStderr(), c.UsageString())
		return usage.Errorf("%s: say %s", c.Name(), want)
	}
	return usage.Errorf("%s: unknown subcommand %q (want %s)", c.Name(), args[0], want)
}

// Finish adds the help and completion commands and makes the last touches
// to the whole tree: complete completes every --product and --exclude flag,
// and bool flags are shown as plain flags.
func Finish(root *cobra.Command, complete cobra.CompletionFunc) {
	shellCommands(root)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, name := range []string{"product", "exclude"} {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, complete)
			}
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
					return usage.Errorf("help: unknown command %q (see 'supervisor --help')", strings.Join(args, " "))
				}
				cmd.InitDefaultHelpFlag()
				return cmd.Help()
			}
		case "completion":
			c.Short = "print the shell completion script for bash, zsh or fish"
			c.Example = examples["bash"] + "\n" + examples["zsh"] + "\n" + examples["fish"]
			c.Args, c.RunE = cobra.ArbitraryArgs, Group
			for _, sh := range c.Commands() {
				sh.Example, sh.Args = examples[sh.Name()], NoArgs("")
			}
		}
	}
}
