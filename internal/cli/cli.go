// Package cli is the supervisor's command line: global options, one file per
// command, and the one place where outcomes become exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"supervisor/internal/logging"
	"supervisor/internal/pass"
)

// Exit codes of DESIGN.md.
const (
	ExitOK          = 0
	ExitFailed      = 1 // at least one product failed; the others were done
	ExitUsage       = 2 // bad usage or configuration; nothing touched
	ExitInterrupted = 130
	ExitTerminated  = 143
)

// Env is the outside world a command sees; tests substitute it.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Executable is the binary re-executed as a worker; "" = os.Executable().
	Executable string
}

// OSEnv is the process's own environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// usagef is bad usage or configuration: exit 2, nothing touched.
var usagef = pass.Usagef

// errUsageShown is bad usage whose usage text was printed already.
var errUsageShown = errors.New("bad usage")

// errFailed means the command ran and reported product failures itself.
var errFailed = errors.New("at least one product failed")

// invocation is one run of the command line: the options every command
// accepts, the outside world and, once the command's flags are parsed, its
// logs.
type invocation struct {
	workspace string
	configDB  string
	logFormat string
	logLevel  string

	env  Env
	logs *logging.Logs
	log  hclog.Logger
}

func (inv *invocation) flags(fs *pflag.FlagSet) {
	ws := "./workspace"
	if v := inv.env.Getenv("SUPERVISOR_WORKSPACE"); v != "" {
		ws = v
	}
	fs.StringVarP(&inv.workspace, "workspace", "w", ws, "workspace `DIR` (env SUPERVISOR_WORKSPACE)")
	fs.StringVar(&inv.configDB, "config-db", "", "config database `URL`: sqlite:PATH, a path ending in .sqlite, or postgres://user@host:port/db without a password (default <workspace>/config.sqlite)")
	fs.StringVar(&inv.logFormat, "log-format", "text", "log `FORMAT`: text or json")
	fs.StringVar(&inv.logLevel, "log-level", "info", "log `LEVEL`: trace, debug, info, warn or error")
}

// rootLong heads 'supervisor --help'.
const rootLong = `supervisor keeps the databases of a CodeChecker-style analysis server healthy:
it upgrades every product database to the schema packaged in this binary and
garbage-collects them, one isolated worker process per product, N at a time.

Exit codes: 0 all selected products done, 1 at least one product failed,
2 bad usage or configuration (nothing touched), 130/143 interrupted.`

func init() {
	// Commands in the order of the work (init, products, status, migrate,
	// ...), not alphabetically.
	cobra.EnableCommandSorting = false
}

// Run runs the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	inv := &invocation{env: env}
	root := newRoot(inv)
	if args == nil {
		args = []string{} // nil makes cobra read os.Args
	}
	root.SetArgs(args)
	_, err := root.ExecuteContextC(ctx)
	return exitCode(inv, err)
}

// newRoot is the command tree. Every error is returned, never printed by
// cobra: exitCode prints it and picks the exit code.
func newRoot(inv *invocation) *cobra.Command {
	var root *cobra.Command
	// Unknown commands are found here, after the global flags are parsed,
	// so that --log-format json holds for that error too.
	root = newCommand("supervisor", "migrate and garbage-collect the product databases of a CodeChecker-style server", cobra.ArbitraryArgs,
		func(_ context.Context, args []string) error {
			if len(args) == 0 {
				fmt.Fprint(inv.env.Stderr, root.UsageString())
				return errUsageShown
			}
			hint := ""
			if s := root.SuggestionsFor(args[0]); len(s) > 0 {
				hint = ", did you mean " + strings.Join(s, " or ") + "?"
			}
			return usagef("unknown command %q (see 'supervisor --help'%s)", args[0], hint)
		},
		"supervisor -w /srv/codechecker init", "supervisor products add web --sqlite /srv/codechecker/web.sqlite",
		"supervisor status", "supervisor up -y")
	root.Long = rootLong
	root.SilenceErrors, root.SilenceUsage = true, true
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return inv.setupLogs() }
	root.SuggestionsMinimumDistance = 2
	root.SetIn(inv.env.Stdin)
	root.SetOut(inv.env.Stdout)
	root.SetErr(inv.env.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if !c.HasParent() {
			return usagef("%v (see 'supervisor --help')", err)
		}
		name := commandName(c)
		return usagef("%s: %v (see 'supervisor %s --help')", name, err, name)
	})
	inv.flags(root.PersistentFlags())
	root.AddCommand(initCmd(inv), productsCmd(inv), statusCmd(inv), migrateCmd(inv), cleanupCmd(inv), upCmd(inv), versionCmd(inv))
	finish(root, inv)
	return root
}

// newCommand is one of our commands: its line, summary, operands, what runs
// once its flags are parsed (nil: the caller sets RunE), and examples
// (whole command lines).
func newCommand(use, short string, args cobra.PositionalArgs, run func(ctx context.Context, args []string) error, examples ...string) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: args, Example: "  " + strings.Join(examples, "\n  ")}
	if run != nil {
		c.RunE = func(c *cobra.Command, a []string) error { return run(c.Context(), a) }
	}
	return c
}

// commandName is the command's path without "supervisor ": "products add".
func commandName(c *cobra.Command) string {
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// noArgs refuses operands; hint says what to do instead.
func noArgs(hint string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != 0 {
			return usagef("%s: unexpected arguments %v%s", commandName(c), args, hint)
		}
		return nil
	}
}

// oneEndpoint wants the product endpoint as the only operand.
func oneEndpoint(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s: want exactly one ENDPOINT, got %d arguments", commandName(c), len(args))
	}
	return nil
}

// groupRun runs a command that only groups others (products, completion):
// alone, or with a name that is none of them, it is bad usage.
func groupRun(c *cobra.Command, args []string) error {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(args) == 0 {
		fmt.Fprint(c.ErrOrStderr(), c.UsageString())
		return usagef("%s: say %s", c.Name(), want)
	}
	return usagef("%s: unknown subcommand %q (want %s)", c.Name(), args[0], want)
}

// exitCode decides the process exit code, in one place.
func exitCode(inv *invocation, err error) int {
	var ue *pass.UsageError
	var ie *interruptedError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errUsageShown):
		return ExitUsage
	case errors.As(err, &ue):
		inv.reportError(err)
		return ExitUsage
	case errors.As(err, &ie):
		return ie.code
	case errors.Is(err, errFailed):
		return ExitFailed
	default:
		inv.reportError(err)
		return ExitFailed
	}
}

// reportError prints the error that ends the run on stderr: as a log line
// once --log-format json is in force (every stderr line is then JSON),
// otherwise as "supervisor: message".
func (inv *invocation) reportError(err error) {
	logs := inv.logs
	if logs == nil {
		// The command's flags did not parse; --log-format may have.
		if f, ferr := logging.ParseFormat(inv.logFormat); ferr == nil && f == logging.FormatJSON {
			logs, _ = logging.New(inv.env.Stderr, f, hclog.Info)
		}
	}
	if logs.JSON() {
		logs.Logger().Error(err.Error())
		return
	}
	fmt.Fprintf(inv.env.Stderr, "supervisor: %v\n", err)
}

// interruptedError carries the exit code of the signal that stopped a run.
type interruptedError struct{ code int }

func (e *interruptedError) Error() string { return "interrupted" }

// setupLogs sets up logging once the flags are parsed.
func (inv *invocation) setupLogs() error {
	format, err := logging.ParseFormat(inv.logFormat)
	if err != nil {
		return usagef("%v", err)
	}
	level, err := logging.ParseLevel(inv.logLevel)
	if err != nil {
		return usagef("%v", err)
	}
	inv.logs, err = logging.New(inv.env.Stderr, format, level)
	if err != nil {
		return usagef("%v", err)
	}
	inv.log = inv.logs.Logger()
	return nil
}
