package api

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/stats"
	"golang.org/x/sync/errgroup"
)

// The overview's history: each host's last 24 hourly windows (median RTT,
// loss), read from the archive and kept in memory, so that neither the
// table's sparklines nor the heatmap query the archive once per host on
// every load. A load answers from the cache at once, even for 100,000
// hosts; hosts not read yet, then rows older than fleetTTL, are read in
// the background (the answer says it is incomplete, and the page asks
// again).
const (
	fleetHours   = 24
	fleetTTL     = 30 * time.Second
	fleetWorkers = 2 // leave a core to the requests and the monitor
)

// hostHours is one host's hourly medians (ms) and losses (percent) for the
// fleetHours hours ending with the current one; NaN where there are no data.
// A hostHours is never changed once published: refreshes replace it.
type hostHours struct {
	first   int64 // Unix seconds of the first hour
	fetched time.Time
	med     [fleetHours]float32
	loss    [fleetHours]float32
	lastMed float32 // median of the latest measurement, NaN if none
}

func newHostHours(first int64, fetched time.Time) *hostHours {
	h := &hostHours{first: first, fetched: fetched, lastMed: float32(math.NaN())}
	for i := range h.med {
		h.med[i], h.loss[i] = float32(math.NaN()), float32(math.NaN())
	}
	return h
}

// shifted returns h moved on to the hours starting at first (the newest
// hours without data), or h itself when it is current.
func (h *hostHours) shifted(first int64) *hostHours {
	if h.first == first {
		return h
	}
	n := newHostHours(first, h.fetched)
	n.lastMed = h.lastMed
	for i := range h.med {
		j := int64(i) - (first-h.first)/3600
		if j >= 0 && j < fleetHours {
			n.med[j], n.loss[j] = h.med[i], h.loss[i]
		}
	}
	return n
}

// fleet caches hostHours per name. Safe for concurrent use.
type fleet struct {
	archive DashboardArchive
	now     func() time.Time

	mu         sync.Mutex
	hosts      map[string]*hostHours
	refreshing bool // a background refresh runs
}

func newFleet(a DashboardArchive, now func() time.Time) *fleet {
	return &fleet{archive: a, now: now, hosts: map[string]*hostHours{}}
}

// hours returns the cached rows of names at once, nil for hosts not read
// yet (and without an archive), and whether every row was there. Hosts
// never read, then rows older than fleetTTL, are read in the background
// under bg (which ends at server shutdown), one pass at a time.
func (f *fleet) hours(names []string, bg context.Context) ([]*hostHours, bool) {
	out := make([]*hostHours, len(names))
	if f.archive == nil {
		return out, true
	}
	now := f.now()
	first := fleetFirst(now)
	var todo, stale []string
	f.mu.Lock()
	for i, n := range names {
		h := f.hosts[n]
		switch {
		case h == nil:
			todo = append(todo, n)
		default:
			out[i] = h.shifted(first)
			if now.Sub(h.fetched) > fleetTTL || h.first != first {
				stale = append(stale, n)
			}
		}
	}
	complete := len(todo) == 0
	start := (len(todo) > 0 || len(stale) > 0) && !f.refreshing
	if start {
		f.refreshing = true
	}
	f.mu.Unlock()
	if start {
		go func() {
			// Errors leave the rows missing or stale; the next load retries.
			_ = f.load(bg, append(todo, stale...))
			f.mu.Lock()
			f.refreshing = false
			f.mu.Unlock()
		}()
	}
	return out, complete
}

// fleetFirst is the start of the first of the fleetHours hours that end
// with the current one.
func fleetFirst(now time.Time) int64 {
	return now.Truncate(time.Hour).Add(-(fleetHours - 1) * time.Hour).Unix()
}

// load reads the rows of names with fleetWorkers readers into the cache.
func (f *fleet) load(ctx context.Context, names []string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fleetWorkers)
	for _, n := range names {
		g.Go(func() error {
			h, err := f.loadOne(gctx, n)
			if err != nil {
				return err
			}
			f.mu.Lock()
			f.hosts[n] = h
			f.mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// loadOne reads one host's hourly windows and its latest measurement.
func (f *fleet) loadOne(ctx context.Context, name string) (*hostHours, error) {
	now := f.now()
	first := fleetFirst(now)
	h := newHostHours(first, now)
	q := archive.SeriesQuery{Target: name}
	ws, err := f.archive.Windows(ctx, q, time.Unix(first, 0), now.Add(time.Hour), time.Hour)
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		i := (w.Start.Unix() - first) / 3600
		if i < 0 || i >= fleetHours {
			continue
		}
		if w.Sent > 0 {
			h.loss[i] = float32(w.Loss)
		}
		if w.Received > 0 {
			h.med[i] = float32(stats.Millis(w.Median))
		}
	}
	// The latest measurement of the last hour, if any.
	ms, err := f.archive.Measurements(ctx, q, now.Add(-time.Hour), now.Add(time.Second), 0)
	if err != nil {
		return nil, err
	}
	if len(ms) > 0 {
		if rep := ms[len(ms)-1].Replies(); len(rep) > 0 {
			h.lastMed = float32(stats.Millis(medianOf(rep)))
		}
	}
	return h, nil
}

// Closed windows (hourly, daily) do not change, so the host page's long
// ranges read each of them from the archive once: a year of daily windows
// costs the archive the scan of one day, not of 365. A window is closed
// winSettle after its end (the archive receives a measurement when it
// ends, through a queue).
const (
	winSettle  = 5 * time.Minute
	winEntries = 64 // cached (target, size) series; beyond, the cache restarts
)

// winCache holds closed windows per (target, size). Safe for concurrent use.
type winCache struct {
	mu sync.Mutex
	m  map[winKey]*winEntry
	// warming holds one token: at most one background warm-up at a time.
	warming chan struct{}
}

// warm reads target's daily windows of the last year into the cache in
// the background, unless they are cached or another warm-up runs: the
// first look at a year then costs nothing more than the look at a day.
func (c *winCache) warm(ctx context.Context, a DashboardArchive, target string, now time.Time) {
	day := 24 * time.Hour
	c.mu.Lock()
	if c.warming == nil {
		c.warming = make(chan struct{}, 1)
	}
	_, cached := c.m[winKey{target, day}]
	c.mu.Unlock()
	if cached {
		return
	}
	select {
	case c.warming <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-c.warming }()
		_, _ = c.windows(ctx, a, target, day, now.Add(-366*day), now, now)
	}()
}

type winKey struct {
	target string
	size   time.Duration
}

// winEntry holds every window starting in [from, until), until a window
// boundary no later than the time they settle. Never changed once stored.
type winEntry struct {
	from, until time.Time
	ws          []archive.WindowStats
}

// windows returns target's windows of length size starting in
// [from.Truncate(size), to), from the cache where they are closed and from
// a, which caches them, where not.
func (c *winCache) windows(ctx context.Context, a DashboardArchive, target string, size time.Duration, from, to, now time.Time) ([]archive.WindowStats, error) {
	q := archive.SeriesQuery{Target: target}
	lo := from.Truncate(size)
	closed := now.Add(-winSettle).Truncate(size)
	key := winKey{target, size}
	c.mu.Lock()
	e := c.m[key]
	c.mu.Unlock()
	switch {
	case !lo.Before(closed):
		e = nil // nothing closed in range: read it all
	case e == nil || e.from.After(lo):
		ws, err := a.Windows(ctx, q, lo, closed, size)
		if err != nil {
			return nil, err
		}
		e = &winEntry{from: lo, until: closed, ws: ws}
	case e.until.Before(closed):
		more, err := a.Windows(ctx, q, e.until, closed, size)
		if err != nil {
			return nil, err
		}
		e = &winEntry{from: e.from, until: closed, ws: append(append(make([]archive.WindowStats, 0, len(e.ws)+len(more)), e.ws...), more...)}
	}
	var out []archive.WindowStats
	open := lo
	if e != nil {
		c.mu.Lock()
		if c.m == nil || len(c.m) >= winEntries {
			c.m = map[winKey]*winEntry{}
		}
		c.m[key] = e
		c.mu.Unlock()
		for _, w := range e.ws {
			if !w.Start.Before(lo) && w.Start.Before(to) {
				out = append(out, w)
			}
		}
		open = e.until
	}
	if open.Before(to) {
		ws, err := a.Windows(ctx, q, open, to, size)
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
	return out, nil
}
