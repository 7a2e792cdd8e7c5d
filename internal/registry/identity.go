package registry

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"supervisor/internal/dbconn"
)

// identity is what tells two spellings of one database apart from two
// databases.
type identity struct {
	// key is the same for every spelling of one database: the SQLite path
	// with its symbolic links resolved, or the PostgreSQL server (loopback
	// names made one), port and database.
	key string
	// info is the SQLite file's, when it exists: a hard link shares no
	// path with the file, only its inode.
	info os.FileInfo
}

// identify computes t's identity. It looks at the file system for SQLite.
func identify(t dbconn.Target) identity {
	if t.Dialect == dbconn.SQLite {
		id := identity{key: "sqlite:" + resolvePath(t.Path)}
		if fi, err := os.Stat(t.Path); err == nil {
			id.info = fi
		}
		return id
	}
	port := t.Port
	if port == 0 {
		port = dbconn.DefaultPort
	}
	return identity{key: "postgres:" + serverName(t.Host) + ":" + strconv.Itoa(port) + "/" + t.Database}
}

// same reports whether a and b are one database.
func (a identity) same(b identity) bool {
	return a.key == b.key || a.info != nil && b.info != nil && os.SameFile(a.info, b.info)
}

// resolvePath is path with its symbolic links resolved as far as they
// exist: a file not created yet is compared by its directory's real path,
// and a link to such a file by where it points.
func resolvePath(path string) string {
	for range 40 { // the kernel's bound on links in a path
		if p, err := filepath.EvalSymlinks(path); err == nil {
			return p
		}
		dir := filepath.Dir(path)
		if d, err := filepath.EvalSymlinks(dir); err == nil {
			dir = d
		}
		path = filepath.Join(dir, filepath.Base(path))
		target, err := os.Readlink(path)
		if err != nil {
			return path // no link: a file not made yet
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		path = target
	}
	return filepath.Clean(path)
}

// serverName is host as a key: case folded, and every name of the loopback
// interface (localhost, 127.0.0.0/8, ::1) the same one.
func serverName(host string) string {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if ip := net.ParseIP(h); h == "localhost" || ip != nil && ip.IsLoopback() {
		return "loopback"
	}
	return h
}

// dbSet is a set of databases, each with the endpoint of the product that
// uses it.
type dbSet struct {
	byKey map[string]string
	// files are the existing SQLite files by size, for os.SameFile: hard
	// links have one size, and few files share it.
	files map[int64][]namedFile
}

type namedFile struct {
	info     os.FileInfo
	endpoint string
}

func (s *dbSet) add(id identity, endpoint string) {
	if s.byKey == nil {
		s.byKey, s.files = map[string]string{}, map[int64][]namedFile{}
	}
	s.byKey[id.key] = endpoint
	if id.info != nil {
		s.files[id.info.Size()] = append(s.files[id.info.Size()], namedFile{id.info, endpoint})
	}
}

// find returns the endpoint of the product that uses id's database.
func (s *dbSet) find(id identity) (string, bool) {
	if e, ok := s.byKey[id.key]; ok {
		return e, true
	}
	if id.info != nil {
		for _, f := range s.files[id.info.Size()] {
			if os.SameFile(f.info, id.info) {
				return f.endpoint, true
			}
		}
	}
	return "", false
}

// urlPassword is the password part of a URL's user information.
var urlPassword = regexp.MustCompile(`^([\w+.-]+://[^:/@]*):[^@]*@`)

// maskPassword hides the password of a connection URL, also of one that
// does not parse, so a stored URL can be shown.
func maskPassword(conn string) string {
	return urlPassword.ReplaceAllString(conn, "${1}:***@")
}
