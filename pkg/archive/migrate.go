package archive

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// dialect holds what differs between the backends: placeholders and DDL.
type dialect struct {
	name string
	// migrations[i] brings the schema from version i to i+1. Forward only:
	// a released migration is never edited, a change is a new one.
	migrations []string
	rebind     func(string) string
}

// The parts of migration 1 that both dialects spell alike: the metadata
// columns between id and created, and the metadata indexes. Migration 1 is
// released: its executed text must stay as it is, byte for byte.
const (
	ddlMetadataColumns = `mkey TEXT NOT NULL UNIQUE,
			subject_type TEXT NOT NULL,
			source TEXT NOT NULL,
			destination TEXT NOT NULL,
			agent TEXT NOT NULL,
			input_source TEXT NOT NULL,
			input_destination TEXT NOT NULL,
			tool_name TEXT NOT NULL,
			params TEXT NOT NULL,
			event_types TEXT NOT NULL,
			derived INTEGER NOT NULL,`
	ddlMetadataIndexes = `CREATE INDEX metadata_destination ON metadata(destination);
		CREATE INDEX metadata_source ON metadata(source);
		CREATE INDEX metadata_agent ON metadata(agent);
		CREATE INDEX metadata_input_destination ON metadata(input_destination);`
)

var sqliteDialect = &dialect{
	name:   BackendSQLite,
	rebind: func(q string) string { return q },
	migrations: []string{
		// 1: metadata, pingapi measurements, client points.
		`CREATE TABLE metadata (
			id INTEGER PRIMARY KEY,
			` + ddlMetadataColumns + `
			created INTEGER NOT NULL);
		` + ddlMetadataIndexes + `
		CREATE TABLE metadata_summary (
			event_type TEXT NOT NULL, summary_type TEXT NOT NULL, summary_window INTEGER NOT NULL,
			metadata_id INTEGER NOT NULL,
			PRIMARY KEY (event_type, summary_type, summary_window, metadata_id)) WITHOUT ROWID;
		CREATE INDEX metadata_summary_md ON metadata_summary(metadata_id);
		CREATE TABLE metadata_param (
			name TEXT NOT NULL, value TEXT NOT NULL, metadata_id INTEGER NOT NULL,
			PRIMARY KEY (name, value, metadata_id)) WITHOUT ROWID;
		CREATE INDEX metadata_param_md ON metadata_param(metadata_id);
		CREATE TABLE measurement (
			series INTEGER NOT NULL, ts INTEGER NOT NULL, data BLOB NOT NULL,
			PRIMARY KEY (series, ts)) WITHOUT ROWID;
		CREATE TABLE point (
			metadata_id INTEGER NOT NULL, event_type TEXT NOT NULL, ts INTEGER NOT NULL, val TEXT NOT NULL,
			PRIMARY KEY (metadata_id, event_type, ts)) WITHOUT ROWID;`,
		// 2: archive keys (esmond's "Authorization: Token" keys), hashed.
		`CREATE TABLE archive_key (
			name TEXT PRIMARY KEY,
			hash TEXT NOT NULL UNIQUE,
			created INTEGER NOT NULL,
			revoked INTEGER);`,
		// 3: hourly rollups of pingapi's series (rollup.go).
		`CREATE TABLE rollup (
			series INTEGER NOT NULL, ts INTEGER NOT NULL, data BLOB NOT NULL,
			PRIMARY KEY (series, ts)) WITHOUT ROWID;`,
	},
}

var postgresDialect = &dialect{
	name:   BackendPostgres,
	rebind: dollarPlaceholders,
	migrations: []string{
		`CREATE TABLE metadata (
			id BIGSERIAL PRIMARY KEY,
			` + ddlMetadataColumns + `
			created BIGINT NOT NULL);
		` + ddlMetadataIndexes + `
		CREATE TABLE metadata_summary (
			event_type TEXT NOT NULL, summary_type TEXT NOT NULL, summary_window BIGINT NOT NULL,
			metadata_id BIGINT NOT NULL,
			PRIMARY KEY (event_type, summary_type, summary_window, metadata_id));
		CREATE INDEX metadata_summary_md ON metadata_summary(metadata_id);
		CREATE TABLE metadata_param (
			name TEXT NOT NULL, value TEXT NOT NULL, metadata_id BIGINT NOT NULL,
			PRIMARY KEY (name, value, metadata_id));
		CREATE INDEX metadata_param_md ON metadata_param(metadata_id);
		CREATE TABLE measurement (
			series BIGINT NOT NULL, ts BIGINT NOT NULL, data BYTEA NOT NULL,
			PRIMARY KEY (series, ts)) PARTITION BY RANGE (ts);
		CREATE TABLE point (
			metadata_id BIGINT NOT NULL, event_type TEXT NOT NULL, ts BIGINT NOT NULL, val TEXT NOT NULL,
			PRIMARY KEY (metadata_id, event_type, ts));`,
		`CREATE TABLE archive_key (
			name TEXT PRIMARY KEY,
			hash TEXT NOT NULL UNIQUE,
			created BIGINT NOT NULL,
			revoked BIGINT);`,
		`CREATE TABLE rollup (
			series BIGINT NOT NULL, ts BIGINT NOT NULL, data BYTEA NOT NULL,
			PRIMARY KEY (series, ts));`,
	},
}

// dollarPlaceholders rewrites ? to $1, $2, ... (no ? appears in our SQL
// other than as a placeholder).
func dollarPlaceholders(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SchemaVersion is the schema version this build migrates to.
func SchemaVersion() int { return len(sqliteDialect.migrations) }

// migrate applies the migrations up to version target, each in its own
// transaction with its version row, so a crash leaves a whole version.
// Several processes may start at once: SQLite serialises the immediate
// transactions, PostgreSQL takes an advisory lock.
func (s *Store) migrate(ctx context.Context, target int) error {
	if s.d.name == BackendPostgres {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("archive: migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7268203)`); err != nil {
			return fmt.Errorf("archive: migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7268203)`)
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("archive: migrate: %w", err)
	}
	for v := 1; v <= target; v++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), v).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, s.d.migrations[v-1]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`), v, s.now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("archive: migration %d (%s): %w", v, s.d.name, err)
		}
	}
	return nil
}

// Version returns the schema version of the database.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}
