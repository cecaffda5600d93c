package archive

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pingapi/pingapi/pkg/stats"
)

// SeriesQuery selects pingapi measurement series (metadata records with
// Derived set): by Key, or by Target (as given) with optional Agent and
// Tool. Empty fields do not filter.
type SeriesQuery struct {
	Key    string
	Target string
	Agent  string
	Tool   string
}

// seriesIDs returns the ids and keys of the series q selects.
func (s *Store) seriesIDs(ctx context.Context, q SeriesQuery) ([]int64, []Metadata, error) {
	where := []string{"derived = 1"}
	var args []any
	for _, c := range []struct{ col, v string }{{"mkey", q.Key}, {"input_destination", q.Target}, {"agent", q.Agent}, {"tool_name", q.Tool}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	mds, ids, err := s.queryMetadata(ctx, `SELECT `+metadataColumns+` FROM metadata WHERE `+strings.Join(where, " AND ")+` ORDER BY id`, args)
	return ids, mds, err
}

// Measurements returns the measurements of the series q selects with
// from ≤ Time < to, in time order (series merged), at most limit (≤ 0: no
// limit). Each carries its series' agent, target, address and tool.
func (s *Store) Measurements(ctx context.Context, q SeriesQuery, from, to time.Time, limit int) ([]Measurement, error) {
	ids, mds, err := s.seriesIDs(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []Measurement
	for i, id := range ids {
		md := mds[i]
		agent, _ := netip.ParseAddr(md.MeasurementAgent)
		addr, _ := netip.ParseAddr(md.Destination)
		err := s.scanRows(ctx, id, from.UnixMilli(), to.UnixMilli()-1, func(ts int64, m *Measurement) {
			c := *m
			c.RTTs = slices.Clone(m.RTTs)
			c.Time = time.UnixMilli(ts).UTC()
			c.Agent, c.Addr, c.Target, c.Tool = agent, addr, md.InputDestination, md.ToolName
			out = append(out, c)
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b Measurement) int { return a.Time.Compare(b.Time) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// WindowStats summarises the measurements of one epoch-aligned window.
// RTT figures are over every reply of the window (nearest-rank
// percentiles, as pkg/stats computes them); zero when no reply. Windows of
// whole hours are read from the hourly rollups: their percentiles, minimum
// and maximum are then to 10 µs (the histogram-rtt buckets), the mean
// exact to the µs.
type WindowStats struct {
	Start        time.Time
	Measurements int
	Sent         int
	Received     int
	Duplicates   int
	Loss         float64 // percent of Sent
	Min          time.Duration
	P5           time.Duration
	P25          time.Duration
	Median       time.Duration
	P75          time.Duration
	P95          time.Duration
	Max          time.Duration
	Mean         time.Duration
	Jitter       time.Duration // mean of the measurements' jitter (those with ≥ 2 replies)
}

// Windows aggregates the series q selects over epoch-aligned windows of
// length window (e.g. time.Hour, 24*time.Hour) with from ≤ start < to.
func (s *Store) Windows(ctx context.Context, q SeriesQuery, from, to time.Time, window time.Duration) ([]WindowStats, error) {
	w := window.Milliseconds()
	if w <= 0 {
		return nil, inputErrorf("window must be at least a millisecond")
	}
	lo := windowStart(from.UnixMilli(), w)
	hi := windowStart(to.UnixMilli()-1, w) + w - 1
	ids, _, err := s.seriesIDs(ctx, q)
	if err != nil {
		return nil, err
	}
	if window%time.Hour == 0 {
		return s.windowsFromRollups(ctx, ids, from, lo/1000, hi/1000, int64(window/time.Second))
	}
	type acc struct {
		n, sent, recv, dups int
		rtts                []time.Duration
		jitSum              time.Duration
		jitN                int
	}
	accs := map[int64]*acc{}
	for _, id := range ids {
		err := s.scanRows(ctx, id, lo, hi, func(ts int64, m *Measurement) {
			k := windowStart(ts, w)
			a := accs[k]
			if a == nil {
				a = &acc{}
				accs[k] = a
			}
			rep := m.Replies()
			a.n++
			a.sent += m.Sent
			a.recv += len(rep)
			a.dups += m.Duplicates
			a.rtts = append(a.rtts, rep...)
			if len(rep) >= 2 {
				a.jitSum += stats.Summarize(m.Sent, rep, m.Duplicates).Jitter
				a.jitN++
			}
		})
		if err != nil {
			return nil, fmt.Errorf("archive: windows: %w", err)
		}
	}
	keys := make([]int64, 0, len(accs))
	for k := range accs {
		if k >= windowStart(from.UnixMilli(), w) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]WindowStats, 0, len(keys))
	for _, k := range keys {
		a := accs[k]
		ws := WindowStats{Start: time.UnixMilli(k).UTC(), Measurements: a.n, Sent: a.sent, Received: a.recv, Duplicates: a.dups,
			Loss: stats.Loss(a.sent, a.recv)}
		if len(a.rtts) > 0 {
			sum := stats.Summarize(len(a.rtts), a.rtts, 0)
			slices.Sort(a.rtts)
			ws.Min, ws.Max, ws.Mean = sum.Min, sum.Max, sum.Mean
			ws.P5 = stats.NearestRank(a.rtts, 5)
			ws.P25 = stats.NearestRank(a.rtts, 25)
			ws.Median = stats.NearestRank(a.rtts, 50)
			ws.P75 = stats.NearestRank(a.rtts, 75)
			ws.P95 = stats.NearestRank(a.rtts, 95)
		}
		if a.jitN > 0 {
			ws.Jitter = a.jitSum / time.Duration(a.jitN)
		}
		out = append(out, ws)
	}
	return out, nil
}

// windowsFromRollups is Windows for windows of whole hours (seconds).
func (s *Store) windowsFromRollups(ctx context.Context, ids []int64, from time.Time, lo, hi, w int64) ([]WindowStats, error) {
	wins := map[int64]*hourAgg{}
	for _, id := range ids {
		hours, err := s.hourAggs(ctx, id, windowStart(lo, hourSec), windowStart(hi, hourSec))
		if err != nil {
			return nil, fmt.Errorf("archive: windows: %w", err)
		}
		for h, a := range hours {
			k := windowStart(h, w)
			if wins[k] == nil {
				wins[k] = newHourAgg()
			}
			wins[k].merge(a)
		}
	}
	var out []WindowStats
	first := windowStart(from.Unix(), w)
	for _, k := range slices.Sorted(maps.Keys(wins)) {
		if k < first {
			continue
		}
		a := wins[k]
		ws := WindowStats{Start: time.Unix(k, 0).UTC(), Measurements: int(a.n), Sent: int(a.sent), Received: int(a.recv),
			Duplicates: int(a.dups), Loss: stats.Loss(int(a.sent), int(a.recv))}
		if a.recv > 0 {
			at := func(p float64) time.Duration {
				rank := int64(math.Ceil(p*float64(a.recv)/100 - 1e-9))
				rank = min(max(rank, 1), a.recv)
				var seen int64
				for _, e := range a.rtt {
					seen += e.c
					if seen >= rank {
						return time.Duration(e.k) * 10 * time.Microsecond
					}
				}
				return time.Duration(a.rtt[len(a.rtt)-1].k) * 10 * time.Microsecond
			}
			ws.Min, ws.Max = time.Duration(a.rtt[0].k)*10*time.Microsecond, time.Duration(a.rtt[len(a.rtt)-1].k)*10*time.Microsecond
			ws.P5, ws.P25, ws.Median, ws.P75, ws.P95 = at(5), at(25), at(50), at(75), at(95)
			ws.Mean = time.Duration(a.rttSumUs/a.recv) * time.Microsecond
		}
		if a.jitN > 0 {
			ws.Jitter = time.Duration(a.jitSumUs/a.jitN) * time.Microsecond
		}
		out = append(out, ws)
	}
	return out, nil
}
