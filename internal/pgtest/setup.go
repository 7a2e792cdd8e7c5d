package pgtest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// dirPrefix starts the name of every directory this package makes under
// os.TempDir(), so that sweepStale can recognise the ones left behind by
// test processes that died before their cleanups ran.
const dirPrefix = "supervisor-pg-"

// staleAge is how old a lock file must be before sweepStale considers its
// directory. It closes the gap between creating a lock file and locking it,
// during which another process could otherwise take the directory for stale.
const staleAge = time.Minute

var errNoBinaries = errors.New("PostgreSQL binaries not found")

// binDir finds the directory holding initdb and postgres, once per process.
var binDir = sync.OnceValues(findBinDir)

func findBinDir() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
		// A symlinked initdb (/usr/local/bin -> /usr/lib/postgresql/15/bin)
		// may have no postgres next to it; its target directory does.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(real))
		}
	}
	globbed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first: "9.6" < "15" numerically, not as strings.
	slices.SortFunc(globbed, func(a, b string) int {
		va, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(a)), 64)
		vb, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(b)), 64)
		switch {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	candidates = append(candidates, globbed...)
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", errNoBinaries
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// setup is what every cluster of this process is made from: the binaries,
// a template data directory produced by one initdb, and the superuser
// password baked into it.
type setup struct {
	bin      string // directory holding initdb and postgres
	root     string // this process's directory under os.TempDir()
	template string // initdb's data directory, copied for each cluster
	password string
	// cred is the postgres OS user's when running as root (initdb and
	// postgres refuse root); nil otherwise. uid and gid are -1 when nil.
	cred     *syscall.Credential
	uid, gid int
}

// lockFile is held (flock) for the life of the process to tell sweepStale
// in other processes that our directory is in use. It lives in a package
// variable so that its finalizer never closes it.
var lockFile *os.File

// loadSetup runs initdb once per process; copying its result is much faster
// than running initdb for every cluster.
var loadSetup = sync.OnceValues(newSetup)

func newSetup() (*setup, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	s := &setup{bin: bin, uid: -1, gid: -1}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("look up OS user postgres (initdb and postgres refuse to run as root): %w", err)
		}
		uid, err := strconv.ParseUint(u.Uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parse uid of OS user postgres: %w", err)
		}
		gid, err := strconv.ParseUint(u.Gid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parse gid of OS user postgres: %w", err)
		}
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		s.uid, s.gid = int(uid), int(gid)
	}

	// No exit hook exists for a test binary, so the template of every test
	// process outlives it; the next process removes it here instead.
	sweepStale(os.TempDir())

	s.root, err = os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("create temporary directory: %w", err)
	}
	if err := s.own(s.root); err != nil {
		return nil, err
	}
	lockFile, err = os.OpenFile(filepath.Join(s.root, "lock"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create lock file: %w", err)
	}
	if err := syscall.Flock(int(lockFile.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil, fmt.Errorf("lock %s: %w", lockFile.Name(), err)
	}

	s.password = rand.Text()
	pwfile := filepath.Join(s.root, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write password file: %w", err)
	}
	defer os.Remove(pwfile)
	if err := s.own(pwfile); err != nil {
		return nil, err
	}
	s.template = filepath.Join(s.root, "template")
	cmd := exec.Command(filepath.Join(bin, "initdb"),
		"-D", s.template,
		"-U", "postgres",
		"--auth=scram-sha-256",
		"--pwfile="+pwfile,
		"--no-sync",
		"--no-instructions",
		"-E", "UTF8",
		"--locale=C",
	)
	cmd.Dir = s.root
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return s, nil
}

// own gives path to the OS user that runs postgres, with mode 0700 for
// directories and 0600 for files.
func (s *setup) own(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	mode := os.FileMode(0o600)
	if fi.IsDir() {
		mode = 0o700
	}
	if err := os.Chmod(path, mode); err != nil {
		return err
	}
	if s.uid >= 0 {
		if err := os.Lchown(path, s.uid, s.gid); err != nil {
			return err
		}
	}
	return nil
}

// copyDataDir copies the template data directory to dst, which must not
// exist. cp -a keeps modes and owners (postgres's, when run as root) and is
// about three times faster than a file-by-file copy in Go here.
func copyDataDir(src, dst string) error {
	out, err := exec.Command("cp", "-a", "--", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cp -a %s %s: %w: %s", src, dst, err, bytes.TrimSpace(out))
	}
	return nil
}

// sweepStale removes the directories under base left by test processes
// that are gone: their lock file is old enough and nobody holds its lock
// (the kernel drops a flock when its process dies, however it died).
// Directories without a readable lock file are left alone. Best effort.
func sweepStale(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), dirPrefix) {
			removeIfStale(filepath.Join(base, e.Name()))
		}
	}
}

func removeIfStale(dir string) {
	f, err := os.Open(filepath.Join(dir, "lock"))
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || time.Since(fi.ModTime()) < staleAge {
		return
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return // its process is alive
	}
	_ = os.RemoveAll(dir)
}
