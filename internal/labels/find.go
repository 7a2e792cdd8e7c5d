package labels

import (
	"os"
	"path/filepath"
	"strings"
)

// Found is a label directory Find located, and how.
type Found struct {
	Dir string
	// Via says where the directory came from, for the log line that names it.
	Via string
}

// Find locates the checker-label directory of a CodeChecker installation
// when none was given: $CC_DATA_FILES_DIR/config/labels (the variable
// CodeChecker's own launcher sets to its package root), else the package
// of the first CodeChecker on PATH: <bin>/../config/labels for a package
// built from source, <bin>/../share/codechecker/config/labels for a pip
// install. A candidate counts only if it has an analyzers/ directory.
// getenv is os.Getenv in production; ok is false when nothing was found.
func Find(getenv func(string) string) (f Found, ok bool) {
	if root := getenv("CC_DATA_FILES_DIR"); root != "" {
		if dir := filepath.Join(root, "config", "labels"); isLabelDir(dir) {
			return Found{Dir: dir, Via: "CC_DATA_FILES_DIR"}, true
		}
	}
	for _, bin := range filepath.SplitList(getenv("PATH")) {
		if bin == "" {
			continue
		}
		exe := filepath.Join(bin, "CodeChecker")
		if st, err := os.Stat(exe); err != nil || st.IsDir() {
			continue
		}
		// A symlinked launcher (…/bin/CodeChecker → …/build/CodeChecker/bin/CodeChecker)
		// names the package it points into.
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		pkg := filepath.Dir(filepath.Dir(exe))
		for _, dir := range []string{
			filepath.Join(pkg, "config", "labels"),
			filepath.Join(pkg, "share", "codechecker", "config", "labels"),
		} {
			if isLabelDir(dir) {
				return Found{Dir: dir, Via: "CodeChecker on PATH (" + strings.TrimSuffix(exe, string(filepath.Separator)) + ")"}, true
			}
		}
		return Found{}, false // the first CodeChecker on PATH is the one that runs
	}
	return Found{}, false
}

func isLabelDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "analyzers"))
	return err == nil && st.IsDir()
}

// Resolve is the label directory in force: dir when given (Via ""), else
// what Find locates (Found.Dir "" when nothing was found: the severity
// upgrade is then skipped). A directory given or found that does not load
// is an error, found before any product is touched.
func Resolve(dir string, getenv func(string) string) (Found, error) {
	f := Found{Dir: dir}
	if dir == "" {
		var ok bool
		if f, ok = Find(getenv); !ok {
			return Found{}, nil
		}
	}
	if _, err := Load(f.Dir); err != nil {
		return Found{}, err
	}
	return f, nil
}
