// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's
// postgresql package (initdb and pg_ctl from /usr/lib/postgresql/*/bin),
// a data directory under a temporary directory, listening only on a unix
// socket there (no TCP port). As root it runs the server as the
// "postgres" user (or "nobody"), since PostgreSQL refuses to run as root.
//
// ARCHIVE_TEST_DSN, when set, names a server to use instead (a DSN of a
// role that may CREATE SCHEMA).
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
)

// Server is a running PostgreSQL server (or the one ARCHIVE_TEST_DSN names).
type Server struct {
	dir     string // temporary directory (socket, data); "" for an external server
	bin     string
	runAs   []string // command prefix that drops privileges, or nil
	baseDSN string
	n       atomic.Int64
}

// ErrUnavailable means no PostgreSQL server binaries were found.
var ErrUnavailable = errors.New("pgtest: PostgreSQL is not installed (Debian package postgresql)")

// Start starts a server for tests (fsync off: a test server need not
// survive a power cut), or returns the one ARCHIVE_TEST_DSN names.
func Start() (*Server, error) { return start(false) }

// StartDurable starts a server with PostgreSQL's durable defaults (fsync
// on), for benchmarks.
func StartDurable() (*Server, error) { return start(true) }

func start(durable bool) (*Server, error) {
	if dsn := os.Getenv("ARCHIVE_TEST_DSN"); dsn != "" {
		return &Server{baseDSN: dsn}, nil
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return nil, ErrUnavailable
	}
	sort.Strings(bins)
	s := &Server{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "pingapi-pg-")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	dbUser := "postgres"
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			return nil, fmt.Errorf("pgtest: no unprivileged user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		s.runAs = []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--"}
	} else if u, err := user.Current(); err == nil {
		dbUser = u.Username
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", dbUser, "-A", "trust", "--no-sync", "-E", "UTF8"); err != nil {
		s.Stop()
		return nil, fmt.Errorf("pgtest: initdb: %w: %s", err, out)
	}
	opts := fmt.Sprintf("-c listen_addresses='' -k %s -c max_connections=200", dir)
	if !durable {
		opts += " -c fsync=off -c full_page_writes=off"
	}
	if out, err := s.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		s.Stop()
		return nil, fmt.Errorf("pgtest: pg_ctl start: %w: %s %s", err, out, log)
	}
	s.baseDSN = "postgres://" + url.PathEscape(dbUser) + "@/postgres?host=" + url.QueryEscape(dir) + "&sslmode=disable"
	return s, nil
}

func (s *Server) run(name string, args ...string) ([]byte, error) {
	argv := append(append([]string{}, s.runAs...), filepath.Join(s.bin, name))
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.CombinedOutput()
}

// NewDSN creates an empty schema and returns a DSN whose search_path is
// that schema: every test gets its own tables on the one server.
func (s *Server) NewDSN(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.n.Add(1))
	db, err := sql.Open("pgx", s.baseDSN)
	if err != nil {
		return "", err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", fmt.Errorf("pgtest: create schema: %w", err)
	}
	sep := "?"
	if strings.Contains(s.baseDSN, "?") {
		sep = "&"
	}
	return s.baseDSN + sep + "search_path=" + name, nil
}

// DSN is the server's base DSN (database postgres, default schema).
func (s *Server) DSN() string { return s.baseDSN }

// Dir is the server's temporary directory ("" for an external server).
func (s *Server) Dir() string { return s.dir }

// Stop stops a server Start started and removes its files.
func (s *Server) Stop() {
	if s == nil || s.dir == "" {
		return
	}
	if s.bin != "" {
		_, _ = s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	}
	_ = os.RemoveAll(s.dir)
}
