package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Global flags work before and after the command, and the environment
// supplies the workspace when no flag does.
func TestGlobalFlagsAnywhere(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	bad := filepath.Join(t.TempDir(), "bad.sqlite")
	if err := os.WriteFile(bad, []byte(strings.Repeat("garbage", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, ExitOK, "-w", ws, "products", "add", "bad", "--sqlite", bad)
	r := mustRun(t, ExitFailed, "-w", ws, "status", "--json")
	want := r.stdout
	if !strings.Contains(r.stderr, "[WARN]  [bad]") {
		t.Fatalf("status stderr:\n%s\nwant a warning about [bad]", r.stderr)
	}
	tests := []struct {
		name string
		in   cmdline
		args []string
	}{
		{"-w after", cmdline{}, []string{"status", "--json", "-w", ws}},
		{"--workspace= after", cmdline{}, []string{"status", "--workspace=" + ws, "--json"}},
		{"--config-db before", cmdline{}, []string{"--config-db", "sqlite:" + filepath.Join(ws, "config.sqlite"), "status", "--json"}},
		{"--config-db after", cmdline{}, []string{"status", "--json", "--config-db", "sqlite:" + filepath.Join(ws, "config.sqlite")}},
		{"env", cmdline{env: map[string]string{"SUPERVISOR_WORKSPACE": ws}}, []string{"status", "--json"}},
		{"flag beats env", cmdline{env: map[string]string{"SUPERVISOR_WORKSPACE": "/nonexistent"}}, []string{"status", "--json", "-w", ws}},
		{"log flags before and after", cmdline{}, []string{"--log-level", "error", "-w", ws, "status", "--log-format", "json", "--json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.in.run(t, tt.args...)
			if r.code != ExitFailed {
				t.Errorf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
			}
			if r.stdout != want {
				t.Errorf("stdout:\n%s\nwant\n%s", r.stdout, want)
			}
		})
	}
	// A global flag before the command is not reset by the command's parse.
	r = run(t, "--log-format", "json", "-w", ws, "status")
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(l, "{\"") {
			t.Errorf("--log-format json before the command: stderr line %q is not JSON", l)
		}
	}
	// Levels given after the command hold too: at error level the warnings go.
	if r := run(t, "-w", ws, "status", "--log-level", "error"); r.stderr != "" {
		t.Errorf("--log-level error after the command: stderr %q, want nothing", r.stderr)
	}
}

// Exit 2 means nothing was touched: an invalid input of any command leaves
// the config database (and the product database) byte for byte as it was.
// cleanup used to delete the expired login sessions first and only then
// find that --product named no product.
func TestInvalidInputLeavesConfigDatabaseUntouched(t *testing.T) {
	t.Parallel()
	notDir := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	badConfig := "server_config.json"
	tests := []struct {
		name       string
		args       []string
		setup      func(t *testing.T, ws string)
		wantStderr string
	}{
		{"init with an argument", []string{"init", "extra"}, nil, "unexpected arguments"},
		{"products add taken endpoint", []string{"products", "add", "p", "--sqlite", "q.sqlite"}, nil, "already exists"},
		{"products add database of another product", []string{"products", "add", "q", "--sqlite", "p.sqlite"}, nil, `database of product "p"`},
		{"products add password variable on an old config", []string{"products", "add", "q", "--postgresql", "--db-password-env", "PW"}, nil, "supervisor migrate"},
		{"products remove unknown", []string{"products", "remove", "nosuch"}, nil, "no such product"},
		{"status unknown product", []string{"status", "--product", "nosuch"}, nil, `unknown product "nosuch"`},
		{"migrate unknown product", []string{"migrate", "-y", "--product", "nosuch"}, nil, `unknown product "nosuch"`},
		{"migrate uncreatable backup dir", []string{"migrate", "-y", "--backup-dir", filepath.Join(notDir, "backups")}, nil, "--backup-dir"},
		{"migrate negative timeout", []string{"migrate", "-y", "--timeout", "-1s"}, nil, "--timeout must not be negative"},
		{"cleanup unknown product", []string{"cleanup", "--product", "nosuch"}, nil, `unknown product "nosuch"`},
		{"cleanup glob matching no product", []string{"cleanup", "--product", "z*"}, nil, `--product "z*" matches no product`},
		{"cleanup malformed --exclude", []string{"cleanup", "--exclude", "[x"}, nil, `--exclude "[x": malformed pattern`},
		{"status malformed --product", []string{"status", "--product", "p["}, nil, `--product "p[": malformed pattern`},
		{"up glob matching no product", []string{"up", "-y", "--product", "p", "--product", "q?*"}, nil, `--product "q?*" matches no product`},
		{"cleanup bad label dir", []string{"cleanup", "--checker-labels", filepath.Join(notDir, "labels")}, nil, "--checker-labels"},
		{"cleanup negative session lifetime", []string{"cleanup", "--session-lifetime", "-1s"}, nil, "--session-lifetime"},
		{"cleanup bad server_config.json", []string{"cleanup"}, func(t *testing.T, ws string) {
			if err := os.WriteFile(filepath.Join(ws, badConfig), []byte("{not json"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, badConfig},
		{"up unknown product", []string{"up", "-y", "--product", "nosuch"}, nil, `unknown product "nosuch"`},
		{"up uncreatable backup dir", []string{"up", "-y", "--backup-dir", filepath.Join(notDir, "backups")}, nil, "--backup-dir"},
		{"up bad label dir", []string{"up", "-y", "--checker-labels", filepath.Join(notDir, "labels")}, nil, "--checker-labels"},
		{"up bad server_config.json", []string{"up", "-y"}, func(t *testing.T, ws string) {
			if err := os.WriteFile(filepath.Join(ws, badConfig), []byte("{not json"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, badConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ws, product := untouchedWorkspace(t)
			if tt.setup != nil {
				tt.setup(t, ws)
			}
			cfg := filepath.Join(ws, "config.sqlite")
			beforeCfg, beforeProduct := checksum(t, cfg), checksum(t, product)
			// Relative paths in the arguments are the workspace's.
			args := append([]string{"-w", ws}, tt.args...)
			for i, a := range args {
				if strings.HasSuffix(a, ".sqlite") && !filepath.IsAbs(a) {
					args[i] = filepath.Join(ws, a)
				}
			}
			r := run(t, args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitUsage, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", r.stderr, tt.wantStderr)
			}
			if strings.Contains(r.stdout, "Do you want") {
				t.Errorf("asked a question before finding the bad input:\n%s", r.stdout)
			}
			if checksum(t, cfg) != beforeCfg {
				t.Error("the config database changed")
			}
			if checksum(t, product) != beforeProduct {
				t.Error("product p's database changed")
			}
		})
	}
}

// Bad usage exits 2, says why on stderr and touches nothing.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"no command", nil, "Usage:"},
		{"only global flags", []string{"-w", "x", "--log-level", "debug"}, "Commands:"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"misspelt command", []string{"stauts"}, "did you mean status?"},
		{"help for an unknown command", []string{"help", "frobnicate"}, `help: unknown command "frobnicate"`},
		{"help for an unknown subcommand", []string{"help", "products", "rename"}, `help: unknown command "products rename"`},
		{"completion alone", []string{"completion"}, "completion: say bash, zsh, fish or powershell"},
		{"completion for an unknown shell", []string{"completion", "tcsh"}, `unknown subcommand "tcsh"`},
		{"completion with arguments", []string{"completion", "bash", "extra"}, "completion bash: unexpected arguments [extra]"},
		{"unknown global flag", []string{"--bogus", "status"}, "unknown flag: --bogus"},
		{"global flag without value", []string{"status", "-w"}, "flag needs an argument"},
		{"unknown command flag", []string{"status", "--bogus"}, "status: unknown flag: --bogus"},
		{"bad flag value", []string{"status", "-j", "many"}, "invalid argument"},
		{"status -j 0", []string{"status", "-j", "0"}, "-j must be at least 1"},
		{"status -j -1", []string{"status", "-j=-1"}, "-j must be at least 1"},
		{"migrate -j 0", []string{"migrate", "-j", "0"}, "-j must be at least 1"},
		{"cleanup -j 0", []string{"cleanup", "-j", "0"}, "-j must be at least 1"},
		{"up -j 0", []string{"up", "-j", "0"}, "-j must be at least 1"},
		{"status with arguments", []string{"status", "Default"}, "unexpected arguments"},
		{"products alone", []string{"products"}, "products: say add, import, list or remove"},
		{"products unknown subcommand", []string{"products", "rename"}, `unknown subcommand "rename"`},
		{"products add without endpoint", []string{"products", "add", "--sqlite", "x.sqlite"}, "want exactly one ENDPOINT, got 0"},
		{"products add without location", []string{"products", "add", "p"}, "--sqlite PATH or --postgresql"},
		{"products add with both locations", []string{"products", "add", "p", "--sqlite", "x", "--postgresql"}, "not both"},
		{"products add sqlite with password env", []string{"products", "add", "p", "--sqlite", "x", "--db-password-env", "PW"}, "--postgresql products only"},
		{"products add invalid endpoint", []string{"products", "add", "no/slash", "--sqlite", "x"}, "endpoint"},
		{"products remove without endpoint", []string{"products", "remove"}, "want exactly one ENDPOINT, got 0"},
		{"products list with arguments", []string{"products", "list", "x"}, "unexpected arguments"},
		{"bad log format", []string{"--log-format", "xml", "status"}, "xml"},
		{"bad log level", []string{"status", "--log-level", "loud"}, "loud"},
		{"bad checker labels", []string{"cleanup", "--checker-labels", "/no/such/labels"}, "--checker-labels"},
		{"bad config-db", []string{"--config-db", "mysql://u@h/d", "status"}, "--config-db"},
		{"version with arguments", []string{"version", "extra"}, "version: unexpected arguments [extra]"},
		{"init with arguments", []string{"init", "extra"}, "init: unexpected arguments [extra]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"-w", filepath.Join(dir, "ws")}, tt.args...)
			if tt.args == nil {
				args = nil
			}
			r := run(t, args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d\nstderr:\n%s", r.code, ExitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", r.stderr, tt.wantStderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("bad usage created %s", entries[0].Name())
			}
		})
	}
}

// A --config-db that is no config database location gets one error naming
// the accepted forms, not two contradicting hints.
func TestConfigDBBogusGivesOneHint(t *testing.T) {
	for _, raw := range []string{"bogus://x", "mysql://u@h/d", "nonsense", "cc/config.db"} {
		t.Run(raw, func(t *testing.T) {
			r := run(t, "--config-db", raw, "status")
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d", r.code, ExitUsage)
			}
			const forms = "use sqlite:PATH, a path ending in .sqlite, or postgres://user@host:port/db"
			if !strings.Contains(r.stderr, forms) || strings.Count(r.stderr, "want") != 0 || strings.Contains(r.stderr, "sqlite:////") {
				t.Errorf("stderr:\n%s\nwant one error with %q and no other hint", r.stderr, forms)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
				t.Errorf("stderr has %d lines, want one:\n%s", n+1, r.stderr)
			}
		})
	}
}

// A --config-db URL with a password puts the password in our argv, which
// every user sees (ps): refused, pointing to PGPASSWORD and ~/.pgpass,
// without repeating the password.
func TestConfigDBPasswordRefused(t *testing.T) {
	for _, raw := range []string{"postgres://u:secret@h/db", "postgresql+psycopg2://u:secret@h:5433/db?client_encoding=utf8", "postgres://u:secret@h:notaport/db"} {
		t.Run(raw, func(t *testing.T) {
			r := run(t, "--config-db", raw, "status")
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d\nstderr:\n%s", r.code, ExitUsage, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "secret") {
				t.Errorf("the password shows in the output:\n%s", r.stderr)
			}
			if !strings.Contains(raw, "notaport") && (!strings.Contains(r.stderr, "PGPASSWORD") || !strings.Contains(r.stderr, "~/.pgpass")) {
				t.Errorf("stderr:\n%s\nwant PGPASSWORD and ~/.pgpass named", r.stderr)
			}
		})
	}
}

// A command that needs the workspace, without one, is bad configuration:
// exit 2, the advice to run init, and no config database made by looking.
func TestNoWorkspace(t *testing.T) {
	for _, args := range [][]string{
		{"status"},
		{"products", "list"},
		{"products", "add", "p", "--sqlite", "p.sqlite"},
		{"products", "remove", "p"},
		{"migrate", "-y"},
		{"migrate", "--dry-run"},
		{"cleanup"},
		{"up", "-y"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ws := filepath.Join(t.TempDir(), "ws")
			r := run(t, append([]string{"-w", ws}, args...)...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d\nstderr:\n%s", r.code, ExitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, "run 'supervisor init' first") {
				t.Errorf("stderr:\n%s\nwant the advice to run init", r.stderr)
			}
			if fileExists(t, ws) {
				t.Errorf("%v created the workspace %s", args, ws)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Usage:", "Commands:", "init", "migrate", "cleanup", "Exit codes:", "--config-db"}},
		{[]string{"-h"}, []string{"Usage:", "Commands:"}},
		// cobra: --help anywhere is the help of the command named (git's way).
		{[]string{"-w", "x", "--help", "status"}, []string{"supervisor status [flags]"}},
		{[]string{"status", "--help"}, []string{"supervisor status [flags]", "--json", "--product", "--connect-timeout", "-w, --workspace"}},
		{[]string{"migrate", "-h"}, []string{"supervisor migrate [flags]", "--dry-run", "--yes", "--backup-dir"}},
		{[]string{"cleanup", "--help"}, []string{"supervisor cleanup [flags]", "--checker-labels", "--session-lifetime"}},
		{[]string{"up", "--help"}, []string{"supervisor up [flags]", "--skip-cleanup"}},
		{[]string{"init", "--help"}, []string{"supervisor init [flags]", "--no-default"}},
		{[]string{"products", "--help"}, []string{"products add ENDPOINT", "products list", "products remove"}},
		{[]string{"products", "add", "--help"}, []string{"--sqlite", "--postgresql", "--db-password-env"}},
		{[]string{"version", "--help"}, []string{"supervisor version [flags]"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != ExitOK {
				t.Errorf("exit %d, want 0\nstderr:\n%s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout:\n%s\nwant it to contain %q", r.stdout, w)
				}
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := mustRun(t, ExitOK, "version")
	for _, w := range []string{
		"supervisor ",
		"config schema (sqlite): 002 (CodeChecker 635389f535cd = 001)",
		"product schema (postgres): 002 (CodeChecker b1be74589382 = 001)",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("version output:\n%s\nwant it to contain %q", r.stdout, w)
		}
	}
}

// With --log-format json every line on stderr is JSON, errors included.
func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"after parsing", []string{"--log-format", "json", "status", "-j", "0"}, "-j must be at least 1"},
		{"flag error", []string{"--log-format", "json", "status", "--bogus"}, "unknown flag"},
		{"unknown command", []string{"--log-format", "json", "frobnicate"}, `unknown command \"frobnicate\"`},
		{"after the command", []string{"status", "--log-format", "json", "-j", "0"}, "-j must be at least 1"},
		{"missing workspace", []string{"-w", "/nonexistent/ws", "--log-format=json", "products", "list"}, "supervisor init"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want 2", r.code)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Errorf("stderr line %q is not JSON: %v", l, err)
				}
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, `"@level":"error"`) {
				t.Errorf("stderr:\n%s\nwant an error line about %q", r.stderr, tt.want)
			}
		})
	}
}
