package archive

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/pingapi/pingapi/pkg/stats"
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

// kc is one histogram bucket: key, count.
type kc struct{ k, c int64 }

// hourAgg is the aggregate of a series' measurements in one hour (or, once
// merged, of a longer window). Histograms are sorted by key.
type hourAgg struct {
	n, sent, recv, dups, reorders int64
	rttSumUs                      int64 // Σ RTT in µs, for the mean
	jitSumUs, jitN                int64 // Σ per-measurement jitter (µs) over those with ≥ 2 replies
	rtt                           []kc  // RTT bucket (10 µs units, RTTBucket) → replies
	ttl                           []kc  // reply TTL → replies

	rttM, ttlM map[int64]int64 // while adding measurements; finish sorts them into rtt, ttl
}

func newHourAgg() *hourAgg { return &hourAgg{} }

// add counts one measurement; call finish after the last.
func (a *hourAgg) add(m *Measurement) {
	if a.rttM == nil {
		a.rttM, a.ttlM = map[int64]int64{}, map[int64]int64{}
	}
	a.n++
	a.sent += int64(m.Sent)
	a.dups += int64(m.Duplicates)
	a.reorders += int64(m.Reorders)
	rep := m.Replies()
	a.recv += int64(len(rep))
	for _, r := range rep {
		us := int64(r / time.Microsecond)
		a.rttSumUs += us
		a.rttM[(us+5)/10]++
	}
	for _, t := range m.TTLs {
		a.ttlM[int64(t)]++
	}
	if len(rep) >= 2 {
		a.jitSumUs += int64(stats.Summarize(m.Sent, rep, m.Duplicates).Jitter / time.Microsecond)
		a.jitN++
	}
}

// finish moves what add counted into the sorted histograms.
func (a *hourAgg) finish() {
	if a.rttM == nil {
		return
	}
	a.rtt = mergeKC(a.rtt, sortedKC(a.rttM))
	a.ttl = mergeKC(a.ttl, sortedKC(a.ttlM))
	a.rttM, a.ttlM = nil, nil
}

func sortedKC(m map[int64]int64) []kc {
	out := make([]kc, 0, len(m))
	for k, c := range m {
		out = append(out, kc{k, c})
	}
	slices.SortFunc(out, func(x, y kc) int { return cmp.Compare(x.k, y.k) })
	return out
}

// mergeKC adds two sorted histograms (a union adds every count).
func mergeKC(a, b []kc) []kc {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]kc, 0, max(len(a), len(b)))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].k < b[j].k:
			out = append(out, a[i])
			i++
		case a[i].k > b[j].k:
			out = append(out, b[j])
			j++
		default:
			out = append(out, kc{a[i].k, a[i].c + b[j].c})
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// merge adds o (finished) into a (finished).
func (a *hourAgg) merge(o *hourAgg) {
	a.n += o.n
	a.sent += o.sent
	a.recv += o.recv
	a.dups += o.dups
	a.reorders += o.reorders
	a.rttSumUs += o.rttSumUs
	a.jitSumUs += o.jitSumUs
	a.jitN += o.jitN
	a.rtt = mergeKC(a.rtt, o.rtt)
	a.ttl = mergeKC(a.ttl, o.ttl)
}

func (a *hourAgg) encode() []byte {
	a.finish()
	b := make([]byte, 0, 16+4*len(a.rtt))
	b = append(b, 1)
	for _, v := range []int64{a.n, a.sent, a.recv, a.dups, a.reorders, a.rttSumUs, a.jitSumUs, a.jitN} {
		b = binary.AppendUvarint(b, uint64(max(v, 0)))
	}
	for _, h := range [][]kc{a.rtt, a.ttl} {
		b = binary.AppendUvarint(b, uint64(len(h)))
		var prev int64
		for _, e := range h {
			b = binary.AppendUvarint(b, uint64(e.k-prev))
			b = binary.AppendUvarint(b, uint64(e.c))
			prev = e.k
		}
	}
	return b
}

var errBadRollup = errors.New("archive: corrupt rollup")

func decodeHourAgg(b []byte) (*hourAgg, error) {
	if len(b) == 0 || b[0] != 1 {
		return nil, errBadRollup
	}
	b = b[1:]
	next := func() (int64, bool) {
		v, k := binary.Uvarint(b)
		if k <= 0 || v > 1<<62 {
			return 0, false
		}
		b = b[k:]
		return int64(v), true
	}
	a := newHourAgg()
	for _, p := range []*int64{&a.n, &a.sent, &a.recv, &a.dups, &a.reorders, &a.rttSumUs, &a.jitSumUs, &a.jitN} {
		v, ok := next()
		if !ok {
			return nil, errBadRollup
		}
		*p = v
	}
	for _, h := range []*[]kc{&a.rtt, &a.ttl} {
		n, ok := next()
		if !ok || n > int64(len(b)) {
			return nil, errBadRollup
		}
		out := make([]kc, n)
		var k int64
		for i := range out {
			d, ok1 := next()
			c, ok2 := next()
			if !ok1 || !ok2 || (i > 0 && d == 0) {
				return nil, errBadRollup
			}
			k += d
			out[i] = kc{k, c}
		}
		*h = out
	}
	return a, nil
}

// rttHistJSON is the histogram-rtt value of a as JSON, written directly
// from the sorted buckets.
func (a *hourAgg) rttHistJSON() []byte {
	b := make([]byte, 0, 2+16*len(a.rtt))
	b = append(b, '{')
	for i, e := range a.rtt {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = appendCenti(b, e.k)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, e.c, 10)
	}
	return append(b, '}')
}

// rttKey is the bucket name of an RTT bucket in 10 µs units ("41.02").
func rttKey(k int64) string { return string(appendCenti(nil, k)) }

// rttStatistics is HistogramStatistics of a's RTT histogram, computed on
// the sorted buckets in place (no map of names, no copy): the same
// figures, esmond's definitions.
func (a *hourAgg) rttStatistics() []byte {
	h := a.rtt
	var n, modeCount int64
	var sum float64
	for _, e := range h {
		n += e.c
		sum += float64(e.k) / 100 * float64(e.c)
		modeCount = max(modeCount, e.c)
	}
	if n == 0 {
		return []byte("{}")
	}
	mean := sum / float64(n)
	var ss float64
	for _, e := range h {
		d := float64(e.k)/100 - mean
		ss += d * d * float64(e.c)
	}
	variance := ss / float64(n)
	// The order statistics the NIST percentiles need, found in one scan.
	ps := [4]float64{50, 25, 75, 95}
	var ranks [8]int64
	var ds [4]float64
	for i, p := range ps {
		r := p / 100 * float64(n+1)
		k := int64(math.Floor(r))
		ds[i] = r - float64(k)
		ranks[2*i], ranks[2*i+1] = min(max(k, 1), n), min(max(k+1, 1), n)
		if k <= 0 {
			ds[i] = 0
		}
		if k >= n {
			ranks[2*i], ds[i] = n, 0
		}
	}
	var ys [8]float64
	order := [8]int{0, 1, 2, 3, 4, 5, 6, 7}
	slices.SortFunc(order[:], func(x, y int) int { return cmp.Compare(ranks[x], ranks[y]) })
	var seen int64
	j := 0
	for _, e := range h {
		seen += e.c
		for j < 8 && ranks[order[j]] <= seen {
			ys[order[j]] = float64(e.k) / 100
			j++
		}
	}
	pct := func(i int) float64 { return ys[2*i] + ds[i]*(ys[2*i+1]-ys[2*i]) }
	buf := make([]byte, 0, 256)
	x := func(k int64) float64 { return float64(k) / 100 }
	buf = append(buf, `{"maximum":`...)
	buf = appendFloat(buf, x(h[len(h)-1].k))
	buf = append(buf, `,"mean":`...)
	buf = appendFloat(buf, mean)
	buf = append(buf, `,"median":`...)
	buf = appendFloat(buf, pct(0))
	buf = append(buf, `,"minimum":`...)
	buf = appendFloat(buf, x(h[0].k))
	buf = append(buf, `,"mode":[`...)
	first := true
	for _, e := range h {
		if e.c == modeCount {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = appendFloat(buf, x(e.k))
		}
	}
	buf = append(buf, `],"percentile-25":`...)
	buf = appendFloat(buf, pct(1))
	buf = append(buf, `,"percentile-75":`...)
	buf = appendFloat(buf, pct(2))
	buf = append(buf, `,"percentile-95":`...)
	buf = appendFloat(buf, pct(3))
	buf = append(buf, `,"standard-deviation":`...)
	buf = appendFloat(buf, math.Sqrt(variance))
	buf = append(buf, `,"variance":`...)
	buf = appendFloat(buf, variance)
	return append(buf, '}')
}

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
