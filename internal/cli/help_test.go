package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"supervisor/internal/command"

	"github.com/spf13/cobra"
)

// commandsOf is every command a user can ask help for: the tree of newRoot
// with cobra's help and completion commands, hidden ones left out.
func commandsOf(t *testing.T) []*cobra.Command {
	t.Helper()
	root := newRoot(&invocation{env: Env{Getenv: func(string) string { return "" }}})
	var all []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		all = append(all, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if len(all) < 15 {
		t.Fatalf("found %d commands, want at least the 15 of supervisor, products, completion and help", len(all))
	}
	return all
}

// argsOf is c's command path as arguments, without "supervisor".
func argsOf(c *cobra.Command) []string {
	if !c.HasParent() {
		return nil
	}
	return strings.Fields(command.Name(c))
}

// Every command's help shows its examples, and bool flags as plain flags:
// pflag 1.1 shows every bool as "--json[=true|false]" unless told not to.
func TestHelpOfEveryCommandHasItsExample(t *testing.T) {
	for _, c := range commandsOf(t) {
		args := append(argsOf(c), "--help")
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if strings.TrimSpace(c.Example) == "" {
				t.Fatalf("%s has no Example", c.CommandPath())
			}
			r := run(t, args...)
			if r.code != ExitOK || r.stderr != "" {
				t.Errorf("exit %d, stderr %q, want 0 and nothing", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "Examples:\n"+c.Example+"\n") {
				t.Errorf("help:\n%s\nwant the examples:\n%s", r.stdout, c.Example)
			}
			if strings.Contains(r.stdout, "[=") {
				t.Errorf("help:\n%s\nwant bool flags without [=...]", r.stdout)
			}
		})
	}
}

// Every example is a command line the tree accepts: the command exists, its
// flags parse and its operands are what the command takes.
func TestExamplesAreValidCommandLines(t *testing.T) {
	for _, c := range commandsOf(t) {
		for _, line := range strings.Split(c.Example, "\n") {
			t.Run(strings.TrimSpace(line), func(t *testing.T) {
				_, cmdline, ok := strings.Cut(line, "supervisor ")
				if !ok {
					t.Fatalf("example %q does not run supervisor", line)
				}
				// What the shell hands to supervisor: up to a pipe, a
				// redirection or the end of a process substitution.
				if i := strings.IndexAny(cmdline, "|>)"); i >= 0 {
					cmdline = cmdline[:i]
				}
				root := newRoot(&invocation{env: Env{Getenv: func(string) string { return "" }}})
				cmd, rest, err := root.Find(strings.Fields(cmdline))
				if err != nil {
					t.Fatalf("find: %v", err)
				}
				if !strings.HasPrefix(cmd.CommandPath(), c.CommandPath()) {
					t.Errorf("the example runs %q, want %q or one of its subcommands", cmd.CommandPath(), c.CommandPath())
				}
				if err := cmd.ParseFlags(rest); err != nil {
					t.Fatalf("flags: %v", err)
				}
				if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
					t.Errorf("operands: %v", err)
				}
			})
		}
	}
}

// 'help [COMMAND]' prints what --help prints.
func TestHelpCommand(t *testing.T) {
	for _, tt := range []struct{ help, flag []string }{
		{[]string{"help"}, []string{"--help"}},
		{[]string{"help", "status"}, []string{"status", "--help"}},
		{[]string{"help", "products", "add"}, []string{"products", "add", "--help"}},
		{[]string{"-w", "x", "help", "completion", "fish"}, []string{"completion", "fish", "-h"}},
	} {
		t.Run(strings.Join(tt.help, " "), func(t *testing.T) {
			got, want := run(t, tt.help...), run(t, tt.flag...)
			if got.code != ExitOK || got.stderr != "" {
				t.Errorf("exit %d, stderr %q, want 0 and nothing", got.code, got.stderr)
			}
			if got.stdout != want.stdout || !strings.Contains(got.stdout, "Usage:") {
				t.Errorf("stdout:\n%s\nwant what %v prints:\n%s", got.stdout, tt.flag, want.stdout)
			}
		})
	}
}

// status --help names every status word with CodeChecker's message and says
// what it means.
func TestHelpStatusExplainsStatusWords(t *testing.T) {
	r := mustRun(t, ExitOK, "help", "status")
	for word, message := range map[string]string{
		"ok":                    "Database is up to date.",
		"missing":               "Database is missing.",
		"failed_to_connect":     "Connection failed to the database server.",
		"schema_mismatch_ok":    "Database schema mismatch! Possible to upgrade.",
		"schema_mismatch_no":    "Database schema mismatch! NOT possible to upgrade.",
		"schema_missing":        "Database schema is missing.",
		"schema_init_error":     "Schema initialization error.",
		"schema_upgrade_failed": "Schema upgrade failed.",
		"drift":                 "Database schema drifted from the packaged schema.",
	} {
		re := regexp.MustCompile(`(?m)^  ` + word + ` +` + regexp.QuoteMeta(message) + `\n {3,}\S`)
		if !re.MatchString(r.stdout) {
			t.Errorf("help status:\n%s\nwant %s with %q and an explanation under it", r.stdout, word, message)
		}
	}
}

// 'completion SHELL' prints cobra's script for that shell, which asks the
// binary itself (__complete) for commands, flags and endpoints.
func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash": "__start_supervisor",
		"zsh":  "#compdef supervisor",
		"fish": "complete -c supervisor",
	} {
		t.Run(shell, func(t *testing.T) {
			r := mustRun(t, ExitOK, "completion", shell)
			if r.stderr != "" {
				t.Errorf("stderr %q, want nothing", r.stderr)
			}
			if !strings.Contains(r.stdout, marker) || !strings.Contains(r.stdout, "__complete") {
				t.Errorf("script:\n%.400s\nwant %q and a call of __complete", r.stdout, marker)
			}
		})
	}
}

// completions runs cobra's hidden completion request and returns the
// candidates (without descriptions) and the directive line.
func completions(t *testing.T, in cmdline, args ...string) ([]string, string) {
	t.Helper()
	r := in.run(t, append([]string{"__complete"}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("__complete %v: exit %d\nstderr:\n%s", args, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	var got []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		got = append(got, name)
	}
	return got, lines[len(lines)-1]
}

// --product and --exclude complete the endpoints of the workspace's config
// database, on every command that has them, and reading them changes nothing.
func TestCompleteProductEndpoints(t *testing.T) {
	ws := workspace(t)
	for _, e := range []string{"web", "beta"} {
		path := filepath.Join(ws, e+".sqlite")
		productAt(t, path, "")
		mustRun(t, ExitOK, "-w", ws, "products", "add", e, "--sqlite", path)
	}
	cfg := filepath.Join(ws, "config.sqlite")
	before := checksum(t, cfg)
	all := []string{"Default", "beta", "web"}
	tests := []struct {
		name string
		in   cmdline
		args []string
		want []string
	}{
		{"migrate", cmdline{}, []string{"-w", ws, "migrate", "--product", ""}, all},
		{"status", cmdline{}, []string{"-w", ws, "status", "--product", ""}, all},
		{"cleanup, -w after", cmdline{}, []string{"cleanup", "-w", ws, "--product", ""}, all},
		{"up, from the environment", cmdline{env: map[string]string{"SUPERVISOR_WORKSPACE": ws}}, []string{"up", "--product", ""}, all},
		{"prefix", cmdline{}, []string{"-w", ws, "migrate", "--product", "w"}, []string{"web"}},
		{"second --product", cmdline{}, []string{"-w", ws, "migrate", "--product", "web", "--product", "b"}, []string{"beta"}},
		{"--exclude", cmdline{}, []string{"-w", ws, "cleanup", "--exclude", ""}, all},
		{"status --exclude", cmdline{}, []string{"-w", ws, "status", "--exclude", "b"}, []string{"beta"}},
		{"products remove", cmdline{}, []string{"-w", ws, "products", "remove", ""}, all},
		{"products remove takes one", cmdline{}, []string{"-w", ws, "products", "remove", "web", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, directive := completions(t, tt.in, tt.args...)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("completions %q, want %q", got, tt.want)
			}
			if directive != ":4" {
				t.Errorf("directive %q, want :4 (no file names)", directive)
			}
		})
	}
	if checksum(t, cfg) != before {
		t.Error("completing endpoints changed the config database")
	}
}

// Without a workspace, --product completes nothing, and looking makes none.
func TestCompleteProductWithoutWorkspace(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	got, directive := completions(t, cmdline{}, "-w", ws, "migrate", "--product", "")
	if len(got) != 0 || directive != ":4" {
		t.Errorf("completions %q, directive %q, want none and :4", got, directive)
	}
	if fileExists(t, ws) {
		t.Errorf("completion created the workspace %s", ws)
	}
}

// Commands and flags complete too (cobra's own work, on our tree).
func TestCompleteCommandsAndFlags(t *testing.T) {
	if got, _ := completions(t, cmdline{}, "m"); strings.Join(got, " ") != "migrate" {
		t.Errorf("commands for %q: %q, want [migrate]", "m", got)
	}
	if got, _ := completions(t, cmdline{}, "migrate", "--dr"); strings.Join(got, " ") != "--dry-run" {
		t.Errorf("flags for %q: %q, want [--dry-run]", "--dr", got)
	}
	if got, _ := completions(t, cmdline{}, "help", "prod"); strings.Join(got, " ") != "products" {
		t.Errorf("help topics for %q: %q, want [products]", "prod", got)
	}
}

// A bool flag shown without [=true|false] still needs no value, and still
// takes one.
func TestPlainBoolFlagsParse(t *testing.T) {
	ws := workspace(t)
	if r := mustRun(t, ExitOK, "-w", ws, "products", "list", "--json"); !strings.HasPrefix(r.stdout, "[") {
		t.Errorf("products list --json:\n%s\nwant a JSON list", r.stdout)
	}
	if r := mustRun(t, ExitOK, "-w", ws, "products", "list", "--json=false"); !strings.Contains(r.stdout, "Endpoint") {
		t.Errorf("products list --json=false:\n%s\nwant the table", r.stdout)
	}
	if r := run(t, "-w", ws, "products", "list", "--json=maybe"); r.code != ExitUsage || !strings.Contains(r.stderr, "invalid argument") {
		t.Errorf("--json=maybe: exit %d, stderr %q, want 2 and invalid argument", r.code, r.stderr)
	}
}
