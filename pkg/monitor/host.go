package monitor

import (
	"hash/fnv"
	"math"
	"net/netip"
	"time"

	"github.com/pingapi/pingapi/pkg/stats"
	"github.com/pingapi/pingapi/pkg/wire"
)

// host is the compact in-memory record of one host (about 150 bytes plus
// its name). Its fields are guarded by Monitor.mu.
type host struct {
	name   string
	addr   netip.Addr    // zero until a hostname has been resolved
	offset time.Duration // start of its probe within each round

	xmitTS, startTS, stopTS int64 // Unix nanoseconds
	tmin, tmax, avg         time.Duration
	stddev, jitter          time.Duration
	xmit, recv, dup         int32

	immutable   bool
	probing     bool
	hasData     bool // a probe has finished with statistics
	unreachable bool // the last probe could not be run
	alive       bool
	removed     bool // dropped from the list; an in-flight probe discards its result
	denied      bool // the policy refuses addr: never probed

	rtt *hostRTT // per-host RTT histogram, only with Options.PerHostRTT
}

// spread returns the start offset of name within a round of length
// interval: FNV-1a of the name modulo the interval. Rounds are aligned on
// multiples of the interval, so a host keeps its phase across restarts.
func spread(name string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(interval))
}

// status derives the public status of h.
func (h *host) status() wire.Status {
	switch {
	case h.unreachable:
		return wire.StatusUnreachable
	case !h.hasData:
		return wire.StatusInit
	case h.probing:
		return wire.StatusProbing
	default:
		return wire.StatusValid
	}
}

func unixSeconds(ns int64) float64 {
	if ns == 0 {
		return 0
	}
	return float64(ns/1e6) / 1e3 // millisecond resolution
}

// record builds the public view of h, rounded here and only here (see
// wire.Record). The caller holds Monitor.mu.
func (h *host) record() wire.Record {
	r := wire.Record{Name: h.name, Status: h.status(), XmitTimestamp: unixSeconds(h.xmitTS)}
	if r.Status != wire.StatusValid && r.Status != wire.StatusProbing {
		return r
	}
	r.Validity = true
	r.StartTimestamp = unixSeconds(h.startTS)
	r.StopTimestamp = unixSeconds(h.stopTS)
	r.Xmit, r.Recv, r.Dup = int(h.xmit), int(h.recv), int(h.dup)
	r.Loss = math.Round(stats.Loss(r.Xmit, r.Recv)*1000) / 1000
	r.TMin, r.TMax, r.Avg = stats.Millis(h.tmin), stats.Millis(h.tmax), stats.Millis(h.avg)
	r.StdDev, r.Jitter = stats.Millis(h.stddev), stats.Millis(h.jitter)
	r.Alive = h.alive
	return r
}
