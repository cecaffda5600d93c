package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"
)

// Backend names (Store.Backend).
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// DefaultFile is the SQLite file under DATA_DIR when no DSN is given.
const DefaultFile = "archive.db"

// Options configure Open.
type Options struct {
	// DSN selects the backend: "" is SQLite at DataDir/archive.db;
	// postgres://... or postgresql://... is PostgreSQL; anything else is a
	// SQLite file path (or a file: URI).
	DSN     string
	DataDir string
	// Now is the clock (retention, metadata creation time); nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger // nil: discard
	// Retention says how long data are kept; the zero value keeps
	// DefaultRetention.
	Retention Retention
}

// Store is the measurement archive: esmond metadata and data, pingapi's
// measurements and the archive keys, on SQLite or PostgreSQL. All methods
// are safe for concurrent use, also by several processes (SQLite: one
// machine; PostgreSQL: any number of instances).
type Store struct {
	db   *sql.DB
	d    *dialect
	now  func() time.Time
	log  *slog.Logger
	ret  Retention
	path string // SQLite file, "" for PostgreSQL

	mu     sync.Mutex
	series map[string]int64       // metadata key → id of committed series rows, guarded by mu
	keys   map[seriesIdent]string // a measurement's series → its metadata key (once committed), guarded by mu
	parts  map[int64]bool         // PostgreSQL measurement partitions known to exist (month start), guarded by mu
}

// Open connects to the archive named by o.DSN, creating the SQLite file
// (and DataDir) if needed, and applies the schema migrations.
func Open(ctx context.Context, o Options) (*Store, error) {
	s := &Store{now: o.Now, log: o.Logger, ret: o.Retention.withDefaults(), series: map[string]int64{}, keys: map[seriesIdent]string{}, parts: map[int64]bool{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if _, err := openDB(ctx, s, o); err != nil {
		return nil, err
	}
	if err := s.migrate(ctx, len(s.d.migrations)); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// openDB connects s to the database o names, without migrating.
func openDB(ctx context.Context, s *Store, o Options) (*Store, error) {
	var err error
	switch {
	case strings.HasPrefix(o.DSN, "postgres://"), strings.HasPrefix(o.DSN, "postgresql://"):
		s.d = postgresDialect
		s.db, err = sql.Open("pgx", o.DSN)
		if err == nil {
			s.db.SetMaxOpenConns(8)
			s.db.SetMaxIdleConns(8)
		}
	default:
		s.d = sqliteDialect
		path := o.DSN
		if path == "" {
			if o.DataDir == "" {
				return nil, errors.New("archive: neither a DSN nor a data directory")
			}
			if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
				return nil, fmt.Errorf("archive: %w", err)
			}
			path = filepath.Join(o.DataDir, DefaultFile)
		}
		path = strings.TrimPrefix(path, "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		s.path = path
		// The archive holds who measured what: readable by its owner only.
		if f, cerr := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); cerr == nil {
			f.Close()
		}
		s.db, err = sql.Open("sqlite", sqliteDSN(path))
		if err == nil {
			// One writer at a time is SQLite's rule; a small pool lets
			// readers run beside it (WAL).
			s.db.SetMaxOpenConns(4)
			s.db.SetMaxIdleConns(4)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("archive: open: %w", err)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("archive: connect (%s): %w", s.d.name, err)
	}
	return s, nil
}

func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	for _, p := range []string{"busy_timeout(10000)", "auto_vacuum(2)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(0)", "cache_size(-32768)"} {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}

// Backend is BackendSQLite or BackendPostgres.
func (s *Store) Backend() string { return s.d.name }

// Close closes the database. Concurrent calls in flight fail.
func (s *Store) Close() error { return s.db.Close() }

// tx runs f in a transaction, committed when f returns nil.
func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("archive: begin: %w", err)
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("archive: commit: %w", err)
	}
	return nil
}

// q rewrites a query written with ? placeholders for the backend.
func (s *Store) q(query string) string { return s.d.rebind(query) }
