package archive

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
)

// DataQuery selects the base data or a summary of one event type.
type DataQuery struct {
	Key         string
	EventType   string
	SummaryType string // SummaryBase ("" too), SummaryAggregation, SummaryAverage, SummaryStatistics
	Window      int64  // summary window in seconds; ignored for base
	Range       TimeRange
	Limit       int // ≤ 0: no limit
	Offset      int
}

// Data returns the points of q in ascending ts. A summary's point ts is
// the start of its epoch-aligned window; a window is summarised whole (all
// its base points, even those outside Range), and is returned when its
// start lies in Range. ErrNotFound: no such key, event type, or a summary
// the metadata did not register.
func (s *Store) Data(ctx context.Context, q DataQuery) ([]Point, error) {
	if q.SummaryType == "" {
		q.SummaryType = SummaryBase
	}
	var id int64
	_, md, err := s.metadataRow(ctx, q.Key, &id)
	if err != nil {
		return nil, err
	}
	if _, ok := md.EventType(q.EventType); !ok {
		return nil, fmt.Errorf("%w: event type %q of %s", ErrNotFound, q.EventType, q.Key)
	}
	if q.SummaryType != SummaryBase && !md.HasSummary(q.EventType, q.SummaryType, q.Window) {
		return nil, fmt.Errorf("%w: summary %s/%d of %s", ErrNotFound, q.SummaryType, q.Window, q.EventType)
	}
	t := eventTypes[q.EventType]
	// A summary's range selects windows by their start (esmond: the bin's
	// ts in [start, end]): the points of the windows that start in it.
	lo, hi := q.Range.Start, q.Range.End
	if hi == 0 {
		hi = math.MaxInt64 / 2000
	}
	if q.SummaryType != SummaryBase && q.Window > 0 {
		lo = windowStart(lo+q.Window-1, q.Window)
		hi = windowStart(hi, q.Window) + q.Window - 1
	}
	if md.Derived && q.SummaryType != SummaryBase && q.Window > 0 && q.Window%hourSec == 0 {
		out, err := s.derivedSummary(ctx, id, q, lo, hi)
		if err != nil {
			return nil, err
		}
		return page(out, q.Offset, q.Limit), nil
	}
	if md.Derived && q.SummaryType == SummaryBase && q.EventType == "histogram-rtt" {
		out, err := s.rttBase(ctx, id, lo, hi)
		if err != nil {
			return nil, err
		}
		return page(out, q.Offset, q.Limit), nil
	}
	var pts []tsValue
	if md.Derived {
		pts, err = s.derivedValues(ctx, id, q.EventType, lo, hi)
	} else {
		pts, err = s.pointValues(ctx, id, q.EventType, t, lo, hi)
	}
	if err != nil {
		return nil, err
	}
	var out []Point
	if q.SummaryType == SummaryBase {
		out = make([]Point, 0, len(pts))
		for _, p := range pts {
			b, _ := p.v.MarshalJSON()
			out = append(out, Point{TS: p.ts, Val: b})
		}
	} else {
		out = summarize(t, q.SummaryType, q.Window, pts)
	}
	return page(out, q.Offset, q.Limit), nil
}

func page[T any](s []T, offset, limit int) []T {
	if offset > 0 {
		if offset >= len(s) {
			return s[:0]
		}
		s = s[offset:]
	}
	if limit > 0 && len(s) > limit {
		s = s[:limit]
	}
	return s
}

func (s *Store) metadataRow(ctx context.Context, key string, id *int64) (int64, Metadata, error) {
	if !ValidKey(key) {
		return 0, Metadata{}, ErrNotFound
	}
	i, m, err := scanMetadata(s.db.QueryRowContext(ctx, s.q(`SELECT `+metadataColumns+` FROM metadata WHERE mkey = ?`), key))
	if err == sql.ErrNoRows {
		return 0, Metadata{}, ErrNotFound
	}
	if err != nil {
		return 0, Metadata{}, fmt.Errorf("archive: metadata: %w", err)
	}
	*id = i
	return i, m, nil
}

// pointValues reads a client event type's stored points with lo ≤ ts ≤ hi.
func (s *Store) pointValues(ctx context.Context, id int64, et string, t ValueType, lo, hi int64) ([]tsValue, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT ts, val FROM point WHERE metadata_id = ? AND event_type = ? AND ts >= ? AND ts <= ? ORDER BY ts`), id, et, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("archive: data: %w", err)
	}
	defer rows.Close()
	var out []tsValue
	for rows.Next() {
		var ts int64
		var raw string
		if err := rows.Scan(&ts, &raw); err != nil {
			return nil, fmt.Errorf("archive: data: %w", err)
		}
		v, err := decodeStored(t, raw)
		if err != nil {
			return nil, fmt.Errorf("archive: stored %s value at %d: %w", et, ts, err)
		}
		out = append(out, tsValue{ts, v})
	}
	return out, rows.Err()
}

// derivedValues derives a pScheduler ping event type from the measurement
// rows of a series with lo ≤ ts (seconds) ≤ hi.
func (s *Store) derivedValues(ctx context.Context, id int64, et string, lo, hi int64) ([]tsValue, error) {
	var out []tsValue
	err := s.scanRows(ctx, id, lo*1000, hi*1000+999, func(tsMillis int64, m *Measurement) {
		if v, ok := derivedPoint(et, m); ok {
			out = append(out, tsValue{floorDiv(tsMillis, 1000), v})
		}
	})
	return out, err
}

// scanRows decodes the measurement rows of series id with lo ≤ ts ≤ hi
// (unix ms) in ts order; m is reused between calls.
func (s *Store) scanRows(ctx context.Context, id, lo, hi int64, f func(tsMillis int64, m *Measurement)) error {
	return s.scanRowsIn(ctx, s.db, id, lo, hi, f)
}

// scanRowsIn is scanRows in db (the store's pool or a transaction).
func (s *Store) scanRowsIn(ctx context.Context, db querier, id, lo, hi int64, f func(tsMillis int64, m *Measurement)) error {
	rows, err := db.QueryContext(ctx, s.q(`SELECT ts, data FROM measurement WHERE series = ? AND ts >= ? AND ts <= ? ORDER BY ts`), id, lo, hi)
	if err != nil {
		return fmt.Errorf("archive: measurements: %w", err)
	}
	defer rows.Close()
	var m Measurement
	var data []byte
	for rows.Next() {
		var ts int64
		if err := rows.Scan(&ts, &data); err != nil {
			return fmt.Errorf("archive: measurements: %w", err)
		}
		if err := decodeRow(data, &m); err != nil {
			return fmt.Errorf("archive: measurement %d/%d: %w", id, ts, err)
		}
		f(ts, &m)
	}
	return rows.Err()
}

// derivedSummary answers a summary of a pingapi series over windows of
// whole hours from the hourly rollups (lo, hi: the widened range).
func (s *Store) derivedSummary(ctx context.Context, id int64, q DataQuery, lo, hi int64) ([]Point, error) {
	if hi > s.now().Unix()+366*24*hourSec {
		hi = windowStart(s.now().Unix(), q.Window) + q.Window - 1
	}
	if lo < 0 {
		lo = 0
	}
	hours, err := s.hourAggs(ctx, id, windowStart(lo, hourSec), windowStart(hi, hourSec))
	if err != nil {
		return nil, err
	}
	wins := map[int64]*hourAgg{}
	for h, a := range hours {
		w := windowStart(h, q.Window)
		if wins[w] == nil {
			wins[w] = newHourAgg()
		}
		wins[w].merge(a)
	}
	var out []Point
	for _, w := range slices.Sorted(maps.Keys(wins)) {
		a := wins[w]
		var val []byte
		switch {
		case q.EventType == "histogram-rtt" && q.SummaryType == SummaryAggregation:
			if a.recv == 0 {
				continue
			}
			val = a.rttHistJSON()
		case q.EventType == "histogram-rtt" && q.SummaryType == SummaryStatistics:
			if a.recv == 0 {
				continue
			}
			val = a.rttStatistics()
		case q.EventType == "packet-loss-rate-bidir" && q.SummaryType == SummaryAggregation:
			if a.sent == 0 {
				continue
			}
			val = appendFloat(nil, float64(max(a.sent-a.recv, 0))/float64(a.sent))
		default:
			return nil, fmt.Errorf("%w: summary %s/%d of %s", ErrNotFound, q.SummaryType, q.Window, q.EventType)
		}
		out = append(out, Point{TS: w, Val: val})
	}
	return out, nil
}

// rttBase is the base histogram-rtt of a pingapi series with lo ≤ ts ≤ hi
// (seconds), its JSON written straight from the rows: the same value as
// derivedPoint's, without a map per point.
func (s *Store) rttBase(ctx context.Context, id, lo, hi int64) ([]Point, error) {
	var out []Point
	var ks []int64
	err := s.scanRows(ctx, id, lo*1000, hi*1000+999, func(tsMillis int64, m *Measurement) {
		ks = ks[:0]
		for _, r := range m.RTTs {
			if r >= 0 {
				ks = append(ks, int64((r+5*time.Microsecond)/(10*time.Microsecond)))
			}
		}
		if len(ks) == 0 {
			return
		}
		slices.Sort(ks)
		b := make([]byte, 0, 2+14*len(ks))
		b = append(b, '{')
		for i := 0; i < len(ks); {
			j := i
			for j < len(ks) && ks[j] == ks[i] {
				j++
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = appendCenti(b, ks[i])
			b = append(b, '"', ':')
			b = strconv.AppendInt(b, int64(j-i), 10)
			i = j
		}
		out = append(out, Point{TS: floorDiv(tsMillis, 1000), Val: append(b, '}')})
	})
	return out, err
}
