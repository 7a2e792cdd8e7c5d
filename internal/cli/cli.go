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

	"supervisor/internal/command"
	"supervisor/internal/logging"
	"supervisor/internal/usage"
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
var usagef = usage.Errorf

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
	root = command.New("supervisor", "migrate and garbage-collect the product databases of a CodeChecker-style server", cobra.ArbitraryArgs,
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
		name := command.Name(c)
		return usagef("%s: %v (see 'supervisor %s --help')", name, err, name)
	})
	inv.flags(root.PersistentFlags())
	root.AddCommand(initCmd(inv), productsCmd(inv), statusCmd(inv), migrateCmd(inv), historyCmd(inv), cleanupCmd(inv), upCmd(inv), versionCmd(inv))
	command.Finish(root, inv.completeEndpoints)
	return root
}

// exitCode decides the process exit code, in one place.
func exitCode(inv *invocation, err error) int {
	var ie *interruptedError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errUsageShown):
		return ExitUsage
	case usage.Is(err):
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

// reportError prints the error that ends the run on stderr (logging.Fatal).
func (inv *invocation) reportError(err error) {
	logging.Fatal(inv.env.Stderr, inv.logs, inv.logFormat, err)
}

// interruptedError carries the exit code of the signal that stopped a run.
type interruptedError struct{ code int }

func (e *interruptedError) Error() string { return "interrupted" }

// setupLogs sets up logging once the flags are parsed.
func (inv *invocation) setupLogs() (err error) {
	if inv.logs, err = logging.FromFlags(inv.env.Stderr, inv.logFormat, inv.logLevel); err != nil {
		return usagef("%v", err)
	}
	inv.log = inv.logs.Logger()
	return nil
}
