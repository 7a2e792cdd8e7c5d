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

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, inv *invocation, args []string) error
}

func commands() []command {
	return []command{
		{"init", "create the workspace and its config database", runInit},
		{"products", "add, list or remove products", runProducts},
		{"status", "show where every product database stands", runStatus},
		{"migrate", "upgrade product databases to the packaged schema", runMigrate},
		{"cleanup", "garbage-collect product databases", runCleanup},
		{"up", "the server start-up sequence: migrate, then cleanup", runUp},
		{"version", "print the version and the packaged schema versions", runVersion},
	}
}

const mainUsage = `supervisor keeps the databases of a CodeChecker-style analysis server healthy:
it upgrades every product database to the schema packaged in this binary and
garbage-collects them, one isolated worker process per product, N at a time.

Usage:
  supervisor [-w DIR] [--config-db URL] [--log-format text|json] [--log-level LEVEL] COMMAND [options]

Commands:
%s
Global options:
%s
Run 'supervisor COMMAND --help' for a command's options.
Exit codes: 0 all selected products done, 1 at least one product failed,
2 bad usage or configuration (nothing touched), 130/143 interrupted.
`

// Run runs the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	inv := &invocation{env: env}
	fs := pflag.NewFlagSet("supervisor", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(false)
	inv.flags(fs)
	help := fs.BoolP("help", "h", false, "show this help")
	printUsage := func(w io.Writer) {
		var cmds strings.Builder
		for _, c := range commands() {
			fmt.Fprintf(&cmds, "  %-10s %s\n", c.name, c.summary)
		}
		fmt.Fprintf(w, mainUsage, cmds.String(), fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(env.Stderr, "supervisor: %v\nRun 'supervisor --help' for usage.\n", err)
		return ExitUsage
	}
	if *help {
		printUsage(env.Stdout)
		return ExitOK
	}
	rest := fs.Args()
	if len(rest) == 0 {
		printUsage(env.Stderr)
		return ExitUsage
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == rest[0] {
			cmd = &c
		}
	}
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "supervisor: unknown command %q\nRun 'supervisor --help' for usage.\n", rest[0])
		return ExitUsage
	}
	err := cmd.run(ctx, inv, rest[1:])
	return exitCode(inv, err)
}

// exitCode decides the process exit code, in one place.
func exitCode(inv *invocation, err error) int {
	var ue *pass.UsageError
	var ie *interruptedError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, pflag.ErrHelp):
		return ExitOK
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

// parse parses a command's flags (plus the global ones, accepted after the
// command too) and sets up logging.
func (inv *invocation) parse(name, usage string, fs *pflag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	// Global flags given before the command were parsed already: registering
	// them again resets them to their defaults, so put the values back.
	before := *inv
	inv.flags(fs)
	help := fs.BoolP("help", "h", false, "show this help")
	inv.workspace, inv.configDB, inv.logFormat, inv.logLevel = before.workspace, before.configDB, before.logFormat, before.logLevel
	if err := fs.Parse(args); err != nil {
		return usagef("%s: %v (see 'supervisor %s --help')", name, err, name)
	}
	if *help {
		summary := ""
		for _, c := range commands() {
			if c.name == strings.Fields(name)[0] {
				summary = c.summary + "\n\n"
			}
		}
		fmt.Fprintf(inv.env.Stdout, "supervisor %s: %sUsage:\n  supervisor %s\n\nOptions:\n%s", name, summary, usage, fs.FlagUsages())
		return pflag.ErrHelp
	}
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
