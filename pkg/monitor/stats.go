package monitor

import (
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/stats"
	"github.com/pingapi/pingapi/pkg/wire"
)

// HostCounts are the hosts of the probed table by status.
type HostCounts struct {
	Init, Valid, Probing, Unreachable int
}

// add counts n more hosts of status st.
func (c *HostCounts) add(st wire.Status, n int) {
	switch st {
	case wire.StatusInit:
		c.Init += n
	case wire.StatusValid:
		c.Valid += n
	case wire.StatusProbing:
		c.Probing += n
	case wire.StatusUnreachable:
		c.Unreachable += n
	}
}

// recount moves h in m.counts from status before to its status now, after
// a change of its state; a host no longer in the table is not counted.
// Keeping the counts as the states change spares Stats (every /metrics
// scrape) a walk of the table under its lock: 100 ms at 1,000,000 hosts,
// during which no probe could be recorded. The caller holds m.mu.
func (m *Monitor) recount(h *host, before wire.Status) {
	if h.removed {
		return
	}
	if after := h.status(); after != before {
		m.counts.add(before, -1)
		m.counts.add(after, 1)
	}
}

// hostCounts counts the table by status, walking it (apply, when the list
// changes; Stats uses m.counts). The caller holds m.mu.
func (m *Monitor) hostCounts() HostCounts {
	var c HostCounts
	for _, h := range m.order {
		switch h.status() {
		case wire.StatusInit:
			c.Init++
		case wire.StatusValid:
			c.Valid++
		case wire.StatusProbing:
			c.Probing++
		case wire.StatusUnreachable:
			c.Unreachable++
		}
	}
	return c
}

// hostRTT is what Options.PerHostRTT keeps per host, guarded by m.mu.
type hostRTT struct {
	hist       stats.Histogram
	sum        time.Duration
	sent, recv uint64
}

// add counts the replies of one probe.
func (r *hostRTT) add(res probe.Result) {
	r.sent += uint64(res.Sent)
	r.recv += uint64(res.Received)
	for _, p := range res.Packets {
		if p.Received {
			r.hist.Add(p.RTT)
			r.sum += p.RTT
		}
	}
}

// HostRTT is the per-host record of Options.PerHostRTT: every RTT received
// from Name since start, in stats' log-scale buckets, their sum, and the
// echo requests sent and replies received.
type HostRTT struct {
	Name     string
	RTT      stats.Histogram
	Sum      time.Duration
	Sent     uint64
	Received uint64
}

// HostRTTs calls fn with the per-host RTT records in list order, in chunks
// copied under the lock (so a slow consumer never blocks probing), and
// stops at fn's first error. Without Options.PerHostRTT it calls nothing.
// fn must not keep the slice.
func (m *Monitor) HostRTTs(fn func([]HostRTT) error) error {
	if !m.perHost {
		return nil
	}
	const chunk = 256
	m.mu.RLock()
	order := m.order // apply replaces the slice, never changes it in place
	m.mu.RUnlock()
	buf := make([]HostRTT, 0, chunk)
	for i := 0; i < len(order); {
		buf = buf[:0]
		m.mu.RLock()
		for ; i < len(order) && len(buf) < chunk; i++ {
			if r := order[i].rtt; r != nil {
				buf = append(buf, HostRTT{Name: order[i].name, RTT: r.hist, Sum: r.sum, Sent: r.sent, Received: r.recv})
			}
		}
		m.mu.RUnlock()
		if len(buf) == 0 {
			continue
		}
		if err := fn(buf); err != nil {
			return err
		}
	}
	return nil
}
