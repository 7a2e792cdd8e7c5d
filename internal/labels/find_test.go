package labels

import (
	"os"
	"path/filepath"
	"testing"

	"supervisor/internal/testutil"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	mk := func(parts ...string) string {
		t.Helper()
		p := filepath.Join(append([]string{root}, parts...)...)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exe := func(dir string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "CodeChecker"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A package built from source: build/CodeChecker/{bin,config/labels}.
	mk("src", "config", "labels", "analyzers")
	exe(mk("src", "bin"))
	// A pip install: venv/bin/CodeChecker, venv/share/codechecker/config/labels.
	mk("venv", "share", "codechecker", "config", "labels", "analyzers")
	exe(mk("venv", "bin"))
	// A CodeChecker with no labels beside it.
	exe(mk("bare", "bin"))
	// A symlink in ~/bin to the source package's launcher.
	link := mk("home", "bin")
	if err := os.Symlink(filepath.Join(root, "src", "bin", "CodeChecker"), filepath.Join(link, "CodeChecker")); err != nil {
		t.Fatal(err)
	}
	mk("data", "config", "labels", "analyzers")

	tests := []struct {
		name, dataDir, path, want string
	}{
		{"CC_DATA_FILES_DIR first", filepath.Join(root, "data"), filepath.Join(root, "venv", "bin"), filepath.Join(root, "data", "config", "labels")},
		{"CC_DATA_FILES_DIR without labels falls back to PATH", filepath.Join(root, "nothing"), filepath.Join(root, "src", "bin"), filepath.Join(root, "src", "config", "labels")},
		{"package from source", "", "/nonexistent:" + filepath.Join(root, "src", "bin"), filepath.Join(root, "src", "config", "labels")},
		{"pip install", "", filepath.Join(root, "venv", "bin"), filepath.Join(root, "venv", "share", "codechecker", "config", "labels")},
		{"symlinked launcher", "", link, filepath.Join(root, "src", "config", "labels")},
		{"first CodeChecker on PATH wins even without labels", "", filepath.Join(root, "bare", "bin") + ":" + filepath.Join(root, "src", "bin"), ""},
		{"nothing", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"CC_DATA_FILES_DIR": tt.dataDir, "PATH": tt.path}
			f, ok := Find(func(k string) string { return env[k] })
			if ok != (tt.want != "") || f.Dir != tt.want {
				t.Errorf("Find = %+v, %v; want %q", f, ok, tt.want)
			}
		})
	}
}

// Resolve: a directory given is used as it is, or refused when it does not
// load; none given is Find's, or nothing at all (the severity upgrade is
// then skipped).
func TestResolve(t *testing.T) {
	none := func(string) string { return "" }
	if f, err := Resolve(testutil.LabelsDir, none); err != nil || f.Dir != testutil.LabelsDir || f.Via != "" {
		t.Errorf("given: %+v, %v; want it, not found", f, err)
	}
	if _, err := Resolve(t.TempDir(), none); err == nil {
		t.Error("a directory without analyzers/ resolved")
	}
	if f, err := Resolve("", none); err != nil || f.Dir != "" {
		t.Errorf("none given or found: %+v, %v; want nothing", f, err)
	}
}
