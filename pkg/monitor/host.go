package monitor

import (
	"hash/fnv"
	"net/netip"
	"time"
)

// Status is the state of a host record, Ping903's four states under plain
// names.
type Status string

// Host record states.
const (
	// StatusInit: no probe has finished yet, data are being collected
	// (validity false).
	StatusInit Status = "init"
	// StatusValid: the statistics of the last probe are available
	// (validity true).
	StatusValid Status = "valid"
	// StatusProbing: valid statistics of the last probe are available and
	// the host is being probed again at this moment (validity true).
	StatusProbing Status = "probing"
	// StatusUnreachable: the last probe could not be run at all (the name
	// does not resolve, or the engine refused to send, e.g. no route); no
	// statistics (validity false). A host that is probed but never answers
	// is not unreachable: it is valid, with 100 % loss and alive false.
	StatusUnreachable Status = "unreachable"
)

// Record is the public view of one monitored host, with Ping903's member
// names plus jitter and dup. Times are seconds since the Epoch; RTTs milliseconds.
// When Validity is false only Name, Validity, Status and XmitTimestamp are
// meaningful.
type Record struct {
	Name           string  `json:"name" example:"192.0.2.1"`
	Validity       bool    `json:"validity"`
	Status         Status  `json:"status" enums:"init,valid,probing,unreachable"`
	XmitTimestamp  float64 `json:"xmit-timestamp" example:"1584804901.404"`
	StartTimestamp float64 `json:"start-timestamp" example:"1584804892.402"`
	StopTimestamp  float64 `json:"stop-timestamp" example:"1584804902.405"`
	Xmit           int     `json:"xmit" example:"10"`
	Recv           int     `json:"recv" example:"10"`
	Loss           float64 `json:"loss" example:"0"`       // percent
	TMin           float64 `json:"tmin" example:"41.212"`  // ms
	TMax           float64 `json:"tmax" example:"41.374"`  // ms
	Avg            float64 `json:"avg" example:"41.265"`   // ms
	StdDev         float64 `json:"stddev" example:"0.046"` // ms, population (ping's mdev)
	Jitter         float64 `json:"jitter" example:"0.031"` // ms, mean |RTT[i]-RTT[i-1]|; 0 with < 2 replies
	Dup            int     `json:"dup" example:"0"`        // duplicate replies during the probe (never counted in recv)
	Alive          bool    `json:"alive"`
}

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
func (h *host) status() Status {
	switch {
	case h.unreachable:
		return StatusUnreachable
	case !h.hasData:
		return StatusInit
	case h.probing:
		return StatusProbing
	default:
		return StatusValid
	}
}

func unixSeconds(ns int64) float64 {
	if ns == 0 {
		return 0
	}
	return float64(ns/1e6) / 1e3 // millisecond resolution
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// record builds the public view of h. The caller holds Monitor.mu.
func (h *host) record() Record {
	r := Record{Name: h.name, Status: h.status(), XmitTimestamp: unixSeconds(h.xmitTS)}
	if r.Status != StatusValid && r.Status != StatusProbing {
		return r
	}
	r.Validity = true
	r.StartTimestamp = unixSeconds(h.startTS)
	r.StopTimestamp = unixSeconds(h.stopTS)
	r.Xmit, r.Recv, r.Dup = int(h.xmit), int(h.recv), int(h.dup)
	if h.xmit > 0 {
		r.Loss = 100 * float64(h.xmit-h.recv) / float64(h.xmit)
	}
	r.TMin, r.TMax, r.Avg = millis(h.tmin), millis(h.tmax), millis(h.avg)
	r.StdDev, r.Jitter = millis(h.stddev), millis(h.jitter)
	r.Alive = h.alive
	return r
}
