package archive

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Retention says how long the archive keeps data (esmond's
// ps_remove_data.conf). Zero fields take the defaults.
//
// The summaries of clients' data are computed from their base data when
// read, so they live as long as those. The summaries of pingapi's series
// come from hourly rollups (rollup.go), kept for Summaries, long after the
// measurements are gone.
type Retention struct {
	// Raw is how long base data are kept: pingapi's measurement rows (and
	// so every event type and summary derived from them) and clients'
	// points. 0: DefaultRawRetention.
	Raw time.Duration
	// EventTypes overrides Raw for clients' points of an event type.
	EventTypes map[string]time.Duration
	// Summaries is how long the hourly rollups of pingapi's series (their
	// 3600 and 86400 s summaries, the dashboard's long ranges) are kept.
	// 0: DefaultSummaryRetention.
	Summaries time.Duration
}

// Default retention: raw data 180 days, summaries 5 years.
const (
	DefaultRawRetention     = 180 * 24 * time.Hour
	DefaultSummaryRetention = 5 * 365 * 24 * time.Hour
)

func (r Retention) withDefaults() Retention {
	if r.Raw <= 0 {
		r.Raw = DefaultRawRetention
	}
	if r.Summaries <= 0 {
		r.Summaries = DefaultSummaryRetention
	}
	return r
}

// PruneResult says what Prune removed.
type PruneResult struct {
	Measurements int64    // measurement rows deleted (SQLite) or in dropped partitions' months
	Points       int64    // client points deleted
	Partitions   []string // PostgreSQL partitions dropped
	Rollups      int64    // hourly rollups deleted
}

// Prune deletes the data older than the retention and returns the space to
// the file system: SQLite deletes the rows and runs an incremental vacuum
// and a WAL checkpoint (the file shrinks); PostgreSQL drops every monthly
// measurement partition that lies wholly before the cut-off (a month is
// the granularity there) and deletes old points.
func (s *Store) Prune(ctx context.Context) (PruneResult, error) {
	var res PruneResult
	now := s.now()
	cut := now.Add(-s.ret.Raw)
	if s.d.name == BackendPostgres {
		parts, err := s.partitions(ctx)
		if err != nil {
			return res, err
		}
		var dropTo int64 // rows before it go
		for _, p := range parts {
			if monthEnd(p) <= cut.UnixMilli() {
				dropTo = max(dropTo, monthEnd(p))
			}
		}
		if err := s.rollUpBefore(ctx, dropTo); err != nil {
			return res, err
		}
		for _, p := range parts {
			if monthEnd(p) <= cut.UnixMilli() {
				name := partitionName(p)
				if _, err := s.db.ExecContext(ctx, `DROP TABLE IF EXISTS `+name); err != nil {
					return res, fmt.Errorf("archive: drop %s: %w", name, err)
				}
				s.mu.Lock()
				delete(s.parts, p)
				s.mu.Unlock()
				res.Partitions = append(res.Partitions, name)
			}
		}
	} else {
		// Whole hours only: the rest of an hour stays until the next run.
		cutMs := windowStart(cut.Unix(), hourSec) * 1000
		if err := s.rollUpBefore(ctx, cutMs); err != nil {
			return res, err
		}
		r, err := s.db.ExecContext(ctx, `DELETE FROM measurement WHERE ts < ?`, cutMs)
		if err != nil {
			return res, fmt.Errorf("archive: prune measurements: %w", err)
		}
		res.Measurements, _ = r.RowsAffected()
	}
	names := make([]string, 0, len(s.ret.EventTypes))
	for et, d := range s.ret.EventTypes {
		names = append(names, et)
		r, err := s.db.ExecContext(ctx, s.q(`DELETE FROM point WHERE event_type = ? AND ts < ?`), et, now.Add(-d).Unix())
		if err != nil {
			return res, fmt.Errorf("archive: prune points: %w", err)
		}
		n, _ := r.RowsAffected()
		res.Points += n
	}
	slices.Sort(names)
	q := `DELETE FROM point WHERE ts < ?`
	args := []any{cut.Unix()}
	if len(names) > 0 {
		q += ` AND event_type NOT IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + `)`
		for _, n := range names {
			args = append(args, n)
		}
	}
	r, err := s.db.ExecContext(ctx, s.q(q), args...)
	if err != nil {
		return res, fmt.Errorf("archive: prune points: %w", err)
	}
	n, _ := r.RowsAffected()
	res.Points += n
	r, err = s.db.ExecContext(ctx, s.q(`DELETE FROM rollup WHERE ts < ?`), now.Add(-s.ret.Summaries).Unix())
	if err != nil {
		return res, fmt.Errorf("archive: prune rollups: %w", err)
	}
	res.Rollups, _ = r.RowsAffected()
	if s.d.name == BackendSQLite {
		if _, err := s.db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return res, fmt.Errorf("archive: vacuum: %w", err)
		}
		if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return res, fmt.Errorf("archive: checkpoint: %w", err)
		}
	}
	return res, nil
}

// partitions lists the month starts of the measurement partitions in the
// store's schema.
func (s *Store) partitions(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'measurement'::regclass`)
	if err != nil {
		return nil, fmt.Errorf("archive: partitions: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		t, err := time.Parse("200601", strings.TrimPrefix(name, "measurement_"))
		if err != nil {
			continue
		}
		out = append(out, t.UnixMilli())
	}
	return out, rows.Err()
}

// RunRetention prunes once at start and then every interval until ctx is
// done, logging what it removed and any error.
func (s *Store) RunRetention(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := s.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("archive: retention failed", "err", err)
		case res.Measurements > 0 || res.Points > 0 || len(res.Partitions) > 0:
			s.log.Info("archive: retention removed old data", "measurements", res.Measurements,
				"points", res.Points, "partitions", res.Partitions)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// rollUpBefore materialises the hourly rollups of every pingapi series for
// its measurements before tsMillis (whole hours), so that deleting those
// keeps their summaries.
func (s *Store) rollUpBefore(ctx context.Context, tsMillis int64) error {
	if tsMillis <= 0 {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM metadata WHERE derived = 1`)
	if err != nil {
		return fmt.Errorf("archive: roll up: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	last := windowStart(floorDiv(tsMillis, 1000), hourSec) - hourSec
	for _, id := range ids {
		var first sql.NullInt64
		if err := s.db.QueryRowContext(ctx, s.q(`SELECT MIN(ts) FROM measurement WHERE series = ?`), id).Scan(&first); err != nil {
			return fmt.Errorf("archive: roll up: %w", err)
		}
		if !first.Valid || first.Int64 >= tsMillis {
			continue
		}
		if _, err := s.hourAggs(ctx, id, windowStart(floorDiv(first.Int64, 1000), hourSec), last); err != nil {
			return err
		}
	}
	return nil
}

// DiskUsage is the space the archive takes, in bytes.
type DiskUsage struct {
	Total        int64 // SQLite: the file and its WAL; PostgreSQL: the database
	Measurements int64 // the measurement table (PostgreSQL: its partitions with their indexes)
}

// DiskUsage reports the space the archive takes. On SQLite it first
// checkpoints the WAL into the file.
func (s *Store) DiskUsage(ctx context.Context) (DiskUsage, error) {
	var u DiskUsage
	if s.d.name == BackendPostgres {
		if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent = 'measurement'::regclass`).Scan(&u.Measurements); err != nil {
			return u, fmt.Errorf("archive: disk usage: %w", err)
		}
		err := s.db.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&u.Total)
		return u, err
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return u, fmt.Errorf("archive: checkpoint: %w", err)
	}
	for _, p := range []string{s.path, s.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			u.Total += fi.Size()
		}
	}
	// dbstat is compiled into modernc's SQLite; without it Measurements
	// stays 0.
	_ = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = 'measurement'`).Scan(&u.Measurements)
	return u, nil
}
