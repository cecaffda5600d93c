package monitor

import (
	"context"
	"errors"
	"sync"
	"time"

	"net/netip"
	"slices"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/report"
	"github.com/pingapi/pingapi/pkg/target"
)

// dispatchSlack is how early the scheduler may start a probe: when it wakes
// for one host it also starts those whose offset comes within this time,
// so that one wake-up serves several (at 10,000 hosts a minute, about 8).
const dispatchSlack = 50 * time.Millisecond

// Run is the scheduler: one loop and one timer for all hosts. Time is cut
// into rounds of probe-interval, aligned on multiples of it (time.Truncate);
// each host starts its probe at its offset (FNV-1a of its name modulo the
// interval; at most dispatchSlack early) within every round, so starts are
// spread evenly and stay put across restarts. At start, hosts whose offset
// in the current round has passed wait for the next round rather than all
// starting at once. A due host is handed to the engine (a Starter), or to a
// goroutine that lives only while its probe runs (a plain Pinger, or a
// hostname to resolve first); the loop never waits for a probe, so a slow,
// failing or unresolvable host delays no other. List changes queued by
// Add, Delete and Update are applied at the start of the next round. Run
// returns when ctx is done, after the probes in flight have ended; it must
// be called at most once.
func (m *Monitor) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	p := m.set.ProbeInterval
	start := m.now()
	round := start.Truncate(p)
	m.mu.Lock()
	m.started = start
	first := m.sched
	m.mu.Unlock()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	next := 0 // index in sched of the next host to start in this round
	for next < len(first) && round.Add(first[next].offset).Before(start) {
		next++ // its slot of this round is past: no herd at start
	}
	for {
		now := m.now()
		m.mu.RLock()
		sched := m.sched
		m.mu.RUnlock()
		for next < len(sched) && !round.Add(sched[next].offset).After(now.Add(dispatchSlack)) {
			m.dispatch(ctx, &wg, sched[next])
			next++
		}
		var wake time.Time
		if next < len(sched) {
			wake = round.Add(sched[next].offset)
		} else if end := round.Add(p); now.Before(end) {
			wake = end
		} else {
			round = end
			if late := now.Sub(round) / p; late > 0 {
				round = round.Add(late * p)
				m.mu.Lock()
				m.stats.LateRounds += uint64(late)
				m.mu.Unlock()
				m.log.Warn("monitor fell behind; rounds skipped", "rounds", int64(late))
			}
			if m.hasPending() {
				m.apply()
			}
			next = 0
			continue
		}
		timer.Reset(wake.Sub(now))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// dispatch starts the probe of h unless its previous probe still runs or
// MaxInFlight probes run; either way it never blocks.
func (m *Monitor) dispatch(ctx context.Context, wg *sync.WaitGroup, h *host) {
	m.mu.Lock()
	if h.probing || h.removed {
		m.stats.Overruns++
		m.mu.Unlock()
		return
	}
	if h.denied {
		m.mu.Unlock()
		m.fail(ctx, h, "policy", target.ErrDenied)
		return
	}
	if m.inFlight.Load() >= m.limit.Load() {
		m.stats.Saturated++
		m.mu.Unlock()
		return
	}
	m.inFlight.Add(1)
	before := h.status()
	h.probing = true
	m.recount(h, before)
	addr := h.addr
	m.mu.Unlock()
	wg.Add(1)
	if s, ok := m.pinger.(Starter); ok && addr.IsValid() {
		// No goroutine waits for the probe, and none is woken when it
		// ends: record runs on the engine's loop.
		start := m.now()
		s.Start(ctx, m.request(addr), func(res probe.Result, err error) {
			defer wg.Done()
			defer m.inFlight.Add(-1)
			m.record(ctx, h, start, res, err)
		})
		return
	}
	go func() {
		defer wg.Done()
		defer m.inFlight.Add(-1)
		m.probe(ctx, h, addr)
	}()
}

// request is the measurement of one probe of addr.
func (m *Monitor) request(addr netip.Addr) probe.Request {
	return probe.Request{
		Target: addr, Count: m.set.PingCount, Interval: m.set.PingInterval,
		Timeout: m.set.Timeout(), Size: m.set.DataLength,
	}
}

// probe resolves h if it has no address yet, measures it once and stores
// the outcome, on the caller's goroutine.
func (m *Monitor) probe(ctx context.Context, h *host, addr netip.Addr) {
	if !addr.IsValid() {
		rctx, cancel := context.WithTimeout(ctx, m.set.ProbeInterval/2)
		a, err := m.resolve(rctx, h.name)
		cancel()
		if err != nil || !a.Is4() {
			m.fail(ctx, h, "resolve", err)
			return
		}
		addr = a
		m.mu.Lock()
		h.addr = a
		m.admitHost(h)
		denied := h.denied
		m.mu.Unlock()
		if denied {
			m.fail(ctx, h, "policy", target.ErrDenied)
			return
		}
	}
	start := m.now()
	res, err := m.pinger.Ping(ctx, m.request(addr), nil)
	m.record(ctx, h, start, res, err)
}

// record stores the outcome of a probe of h that started at start. It is
// quick and never blocks but for the table's lock: with a Starter it runs
// on the engine's loop.
func (m *Monitor) record(ctx context.Context, h *host, start time.Time, res probe.Result, err error) {
	stop := m.now()
	if ctx.Err() != nil {
		m.mu.Lock()
		before := h.status()
		h.probing = false
		m.recount(h, before)
		m.mu.Unlock()
		return
	}
	if m.rec != nil && res.Target.IsValid() {
		m.rec.Record(h.name, m.request(res.Target), res, err)
	}
	if err != nil {
		m.fail(ctx, h, "ping", err)
		return
	}
	var lastSent time.Time
	for _, pk := range res.Packets {
		if pk.SentAt.After(lastSent) {
			lastSent = pk.SentAt
		}
	}
	sum := report.Summarize(res, false)
	if lastSent.IsZero() {
		lastSent = stop
	}
	if !res.Started.IsZero() {
		start = res.Started
	}
	if !res.Finished.IsZero() {
		stop = res.Finished
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.recount(h, h.status())
	m.stats.Probes++
	if d := stop.Sub(start); d >= 0 {
		m.stats.ProbeDuration.Add(d)
		m.stats.ProbeDurationSum += d
	}
	h.probing = false
	if h.removed {
		return
	}
	if h.rtt != nil {
		h.rtt.add(res)
	}
	h.hasData, h.unreachable, h.cause = true, false, causeNone
	h.xmitTS, h.startTS, h.stopTS = lastSent.UnixNano(), start.UnixNano(), stop.UnixNano()
	h.xmit, h.recv, h.dup = int32(res.Sent), int32(res.Received), int32(res.Duplicates)
	h.tmin, h.tmax, h.avg = sum.Min, sum.Max, sum.Mean
	h.stddev, h.jitter = sum.StdDev, sum.Jitter
	h.alive = m.set.Alive(res.Sent, res.Received)
}

// fail records a probe that could not run.
func (m *Monitor) fail(ctx context.Context, h *host, stage string, err error) {
	if err == nil {
		err = errors.New("no IPv4 address")
	}
	m.log.Debug("probe failed", "host", h.name, "stage", stage, "err", err)
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.recount(h, h.status())
	h.probing = false
	if ctx.Err() != nil || h.removed {
		return
	}
	m.stats.Probes++
	m.stats.Unreachable++
	if stage == "resolve" {
		m.stats.ResolveFailures++
	}
	h.unreachable, h.hasData, h.alive = true, false, false
	h.cause = causeOf(stage, err)
	h.xmitTS = m.now().UnixNano()
}

// ProbeOnce probes every host of the table now, all at once (hosts beyond
// the in-flight bound are skipped, see Options.MaxInFlight), and returns
// when they have finished or ctx is done. Queued list changes are applied
// first. It is meant for tests and tools; the
// scheduler (Run) is what spreads probes in production. Calling it while Run
// runs is safe but applies queued list changes mid-round.
func (m *Monitor) ProbeOnce(ctx context.Context) {
	if m.hasPending() {
		m.apply()
	}
	m.mu.RLock()
	hosts := slices.Clone(m.order)
	m.mu.RUnlock()
	var wg sync.WaitGroup
	for _, h := range hosts {
		m.dispatch(ctx, &wg, h)
	}
	wg.Wait()
}
