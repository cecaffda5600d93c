package archive

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Hourly rollups. The summaries of pingapi's series (histogram-rtt
// aggregations and statistics over 3600 and 86400 s, packet-loss-rate-bidir
// aggregations, the dashboard's windows) are computed from one row per
// series and hour, so that a month of hourly statistics reads 720 rows,
// not 43,200 measurements.
//
// A rollup is materialised lazily, by the first read that needs it, once
// its hour is settled (ended rollupSettle ago): until then it is computed
// from the measurements on every read. A measurement written into a
// settled hour (late, or a backfill) deletes that hour's rollup in the
// same transaction; a writer judges "settled" with half the margin a
// reader uses, so clocks of instances may differ by rollupSettle/2. On
// PostgreSQL the two paths serialise on an advisory lock of the series;
// SQLite serialises all writes anyway. Rollups outlive the measurements:
// Prune materialises an hour before deleting its rows, so daily summaries
// are kept for Retention.Summaries.
const rollupSettle = 20 * time.Minute

const hourSec = 3600

// hourAggs returns the aggregates of series id for the hours starting in
// [lo, hi] (unix seconds, hour-aligned): materialised rollups, the rest
// computed from the measurements, and settled hours materialised on the
// way. Hours without measurements are absent.
func (s *Store) hourAggs(ctx context.Context, id, lo, hi int64) (map[int64]*hourAgg, error) {
	out := map[int64]*hourAgg{}
	have := map[int64]bool{}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT ts, data FROM rollup WHERE series = ? AND ts >= ? AND ts <= ?`), id, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("archive: rollups: %w", err)
	}
	for rows.Next() {
		var ts int64
		var data []byte
		if err := rows.Scan(&ts, &data); err != nil {
			rows.Close()
			return nil, fmt.Errorf("archive: rollups: %w", err)
		}
		a, err := decodeHourAgg(data)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("archive: rollup %d/%d: %w", id, ts, err)
		}
		have[ts] = true
		if a.n > 0 {
			out[ts] = a
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The series' first measurement bounds the hours worth looking at.
	var first sql.NullInt64
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT MIN(ts) FROM measurement WHERE series = ?`), id).Scan(&first); err != nil {
		return nil, fmt.Errorf("archive: rollups: %w", err)
	}
	if !first.Valid {
		return out, nil
	}
	lo = max(lo, windowStart(floorDiv(first.Int64, 1000), hourSec))
	settled := windowStart(s.now().Add(-rollupSettle).Unix(), hourSec) - hourSec // last settled hour start
	var spans [][2]int64                                                         // missing hour ranges [a, b]
	var settle []int64
	for h := lo; h <= hi; h += hourSec {
		if have[h] {
			continue
		}
		if h <= settled {
			settle = append(settle, h)
		}
		if n := len(spans); n > 0 && spans[n-1][1] == h-hourSec {
			spans[n-1][1] = h
		} else {
			spans = append(spans, [2]int64{h, h})
		}
	}
	if len(settle) > 0 {
		return out, s.materialize(ctx, id, spans, settled, out)
	}
	for _, sp := range spans {
		if err := s.aggregateRaw(ctx, s.db, id, sp, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// aggregateRaw adds the measurements of the hours in span into out.
func (s *Store) aggregateRaw(ctx context.Context, db querier, id int64, span [2]int64, out map[int64]*hourAgg) error {
	err := s.scanRowsIn(ctx, db, id, span[0]*1000, (span[1]+hourSec)*1000-1, func(ts int64, m *Measurement) {
		h := windowStart(floorDiv(ts, 1000), hourSec)
		a := out[h]
		if a == nil {
			a = newHourAgg()
			out[h] = a
		}
		a.add(m)
	})
	for _, a := range out {
		a.finish()
	}
	return err
}

// materialize computes the missing hours (spans) from the measurements in
// one write transaction, stores the settled ones (empty ones too, so they
// are not looked for again) and adds all into out.
func (s *Store) materialize(ctx context.Context, id int64, spans [][2]int64, settled int64, out map[int64]*hourAgg) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockSeries(ctx, tx, id); err != nil {
			return err
		}
		got := map[int64]*hourAgg{}
		for _, sp := range spans {
			if err := s.aggregateRaw(ctx, tx, id, sp, got); err != nil {
				return err
			}
		}
		for _, sp := range spans {
			for h := sp[0]; h <= sp[1]; h += hourSec {
				a := got[h]
				if a != nil {
					out[h] = a
				}
				if h > settled {
					continue
				}
				if a == nil {
					a = newHourAgg()
				}
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO rollup (series, ts, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`), id, h, a.encode()); err != nil {
					return fmt.Errorf("archive: store rollup: %w", err)
				}
			}
		}
		return nil
	})
}

// lockSeries serialises rollup materialisation and late writes of one
// series on PostgreSQL (SQLite transactions are serial already).
func (s *Store) lockSeries(ctx context.Context, tx *sql.Tx, id int64) error {
	if s.d.name != BackendPostgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7268205, $1::int)`, int32(id)); err != nil {
		return fmt.Errorf("archive: lock series: %w", err)
	}
	return nil
}

// invalidateLate deletes the rollups of settled hours that rows write
// into, in the writing transaction.
func (s *Store) invalidateLate(ctx context.Context, tx *sql.Tx, rows []insertRow) error {
	limit := windowStart(s.now().Add(-rollupSettle/2).Unix(), hourSec) // hours starting before it may be settled
	type sh struct{ series, hour int64 }
	seen := map[sh]bool{}
	for _, r := range rows {
		h := windowStart(floorDiv(r.ts, 1000), hourSec)
		if h >= limit || seen[sh{r.series, h}] {
			continue
		}
		seen[sh{r.series, h}] = true
		if err := s.lockSeries(ctx, tx, r.series); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM rollup WHERE series = ? AND ts = ?`), r.series, h); err != nil {
			return fmt.Errorf("archive: invalidate rollup: %w", err)
		}
	}
	return nil
}
