package monitor

import (
	"errors"
	"hash/fnv"
	"math"
	"net/netip"
	"syscall"
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
	removed     bool  // dropped from the list; an in-flight probe discards its result
	denied      bool  // the policy refuses addr: never probed
	cause       cause // why the last probe could not be run, when known

	rtt *hostRTT // per-host RTT histogram, only with Options.PerHostRTT
}

// cause is why a probe could not be run, as far as the monitor knows: the
// kernel's refusal to send (no route) or a name that does not resolve.
type cause uint8

const (
	causeNone cause = iota
	causeNetUnreachable
	causeNoRoute
	causeUnknownHost
)

// causeOf classifies the error of a probe that could not run.
func causeOf(stage string, err error) cause {
	switch {
	case stage == "resolve":
		return causeUnknownHost
	case errors.Is(err, syscall.ENETUNREACH):
		return causeNetUnreachable
	case errors.Is(err, syscall.EHOSTUNREACH):
		return causeNoRoute
	}
	return causeNone
}

// text is the cause in ping(8)'s and the kernel's words (wire.Record's
// error member).
func (c cause) text() string {
	switch c {
	case causeNetUnreachable:
		return "Network is unreachable"
	case causeNoRoute:
		return "No route to host"
	case causeUnknownHost:
		return "unknown host"
	}
	return ""
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
		if r.Status == wire.StatusUnreachable {
			r.Error = h.cause.text()
		}
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
