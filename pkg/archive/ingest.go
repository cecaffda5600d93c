package archive

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"
)

// maxSeriesCache bounds the key → id cache; past it the cache restarts.
const maxSeriesCache = 1 << 20

// AddMeasurements stores ms in one transaction: every measurement is
// stored (one row each) or none is, and the call returns only once they
// are durable. The metadata record of each new series (agent, target,
// address, tool, parameters) is created on the way. Two measurements of
// one series in the same millisecond are kept apart by moving the later
// one a millisecond on.
func (s *Store) AddMeasurements(ctx context.Context, ms []Measurement) error {
	if len(ms) == 0 {
		return nil
	}
	type row struct {
		key  string
		ts   int64
		data []byte
	}
	rows := make([]row, len(ms))
	newSeries := map[string]Metadata{}
	s.mu.Lock()
	for i := range ms {
		m := &ms[i]
		if !m.Addr.IsValid() || !m.Agent.IsValid() {
			s.mu.Unlock()
			return inputErrorf("measurement %d: agent and address are required", i)
		}
		id := m.ident()
		key, ok := s.keys[id]
		if !ok {
			md := m.series()
			key = md.Key
			if _, ok := s.series[key]; !ok {
				newSeries[key] = md
			} else {
				s.keys[id] = key
			}
		}
		rows[i] = row{key: key, ts: m.Time.UnixMilli(), data: encodeRow(make([]byte, 0, 16+2*len(m.RTTs)), m)}
	}
	s.mu.Unlock()
	if s.d.name == BackendPostgres {
		months := map[int64]bool{}
		for _, r := range rows {
			months[monthStart(r.ts)] = true
		}
		for m := range months {
			if err := s.ensurePartition(ctx, m); err != nil {
				return err
			}
		}
	}
	ids := map[string]int64{}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for k, md := range newSeries {
			id, _, err := s.insertMetadata(ctx, tx, &md)
			if err != nil {
				return err
			}
			ids[k] = id
		}
		s.mu.Lock()
		for _, r := range rows {
			if _, ok := ids[r.key]; !ok {
				ids[r.key] = s.series[r.key]
			}
		}
		s.mu.Unlock()
		pending := make([]insertRow, len(rows))
		for i, r := range rows {
			pending[i] = insertRow{series: ids[r.key], ts: r.ts, data: r.data}
		}
		if err := s.invalidateLate(ctx, tx, pending); err != nil {
			return err
		}
		return s.insertRows(ctx, tx, pending)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	if len(s.series)+len(newSeries) > maxSeriesCache {
		clear(s.series)
		clear(s.keys)
	}
	for k := range newSeries {
		s.series[k] = ids[k]
	}
	s.mu.Unlock()
	return nil
}

// monthStart is the start (unix ms) of the UTC month holding ts (unix ms):
// the PostgreSQL measurement partitions are months.
func monthStart(tsMillis int64) int64 {
	t := time.UnixMilli(tsMillis).UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
}

func monthEnd(start int64) int64 {
	return time.UnixMilli(start).UTC().AddDate(0, 1, 0).UnixMilli()
}

// partitionName is the PostgreSQL partition of the month starting at start.
func partitionName(start int64) string {
	return "measurement_" + time.UnixMilli(start).UTC().Format("200601")
}

// ensurePartition creates the measurement partition of a month if it is
// missing. Instances racing on it serialise on an advisory lock.
func (s *Store) ensurePartition(ctx context.Context, start int64) error {
	s.mu.Lock()
	known := s.parts[start]
	s.mu.Unlock()
	if known {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7268204)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF measurement FOR VALUES FROM (%d) TO (%d)`,
			partitionName(start), start, monthEnd(start)))
		return err
	})
	if err != nil {
		return fmt.Errorf("archive: create partition %s: %w", partitionName(start), err)
	}
	s.mu.Lock()
	s.parts[start] = true
	s.mu.Unlock()
	return nil
}

type insertRow struct {
	series, ts int64
	data       []byte
}

// insertRows inserts measurement rows; a row whose (series, ts) is taken
// moves on a millisecond (up to 10 s) until it fits. PostgreSQL inserts
// the whole batch in one statement (unnest of three arrays); SQLite runs a
// prepared statement per row.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, rows []insertRow) error {
	if s.d.name == BackendPostgres {
		return s.insertRowsPG(ctx, tx, rows)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO measurement (series, ts, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("archive: prepare: %w", err)
	}
	defer stmt.Close()
	for _, r := range rows {
		for ts := r.ts; ; ts++ {
			if ts-r.ts > 10000 {
				return fmt.Errorf("archive: no free millisecond for a measurement of series %d", r.series)
			}
			res, err := stmt.ExecContext(ctx, r.series, ts, r.data)
			if err != nil {
				return fmt.Errorf("archive: insert measurement: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				break
			}
		}
	}
	return nil
}

func (s *Store) insertRowsPG(ctx context.Context, tx *sql.Tx, rows []insertRow) error {
	for bump := int64(0); len(rows) > 0; bump++ {
		if bump > 10000 {
			return fmt.Errorf("archive: no free millisecond for a measurement of series %d", rows[0].series)
		}
		series := make([]int64, len(rows))
		tss := make([]int64, len(rows))
		data := make([][]byte, len(rows))
		for i, r := range rows {
			series[i], tss[i], data[i] = r.series, r.ts+bump, r.data
			if monthStart(tss[i]) != monthStart(r.ts) {
				return fmt.Errorf("archive: no free millisecond for a measurement of series %d", r.series)
			}
		}
		res, err := tx.QueryContext(ctx, `INSERT INTO measurement (series, ts, data)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING RETURNING series, ts`, series, tss, data)
		if err != nil {
			return fmt.Errorf("archive: insert measurements: %w", err)
		}
		type key struct{ series, ts int64 }
		done := make(map[key]bool, len(rows))
		for res.Next() {
			var k key
			if err := res.Scan(&k.series, &k.ts); err != nil {
				res.Close()
				return fmt.Errorf("archive: insert measurements: %w", err)
			}
			done[k] = true
		}
		if err := res.Err(); err != nil {
			return fmt.Errorf("archive: insert measurements: %w", err)
		}
		res.Close()
		// A row whose key was taken (or doubled in the batch) tries the
		// next millisecond; of a doubled pair only one was inserted.
		var left []insertRow
		for _, r := range rows {
			k := key{r.series, r.ts + bump}
			if done[k] {
				delete(done, k)
				continue
			}
			left = append(left, r)
		}
		rows = left
	}
	return nil
}

// seriesIdent is what makes a measurement's series (the fields its
// metadata is built from), a cheap map key for the key cache.
type seriesIdent struct {
	agent, addr      netip.Addr
	target, tool     string
	size, sampleSize int
	interval         time.Duration
}

func (m *Measurement) ident() seriesIdent {
	return seriesIdent{m.Agent, m.Addr, m.Target, m.Tool, m.PacketSize, m.SampleSize, m.Interval}
}
