package archive

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"

	"github.com/pingapi/pingapi/pkg/probe"
)

// Recorder turns finished measurements into Measurements on a Feed. It is
// what the monitor (tool ToolMonitor) and the on-demand API (ToolPing) are
// given as their recorder; Record never blocks. Safe for concurrent use.
type Recorder struct {
	Feed *Feed
	Tool string // ToolMonitor or ToolPing
	// Agent, when valid, is the measurement-agent of every measurement;
	// otherwise the feed's Agent function finds the address probed from.
	Agent netip.Addr
}

// Record archives one measurement of target (as given) run with req.
// A measurement cancelled by its context (client gone, shutdown) is not
// archived; another error is archived as an esmond failure.
func (r *Recorder) Record(target string, req probe.Request, res probe.Result, err error) {
	if r == nil || r.Feed == nil {
		return
	}
	if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, probe.ErrClosed)) {
		return
	}
	m := FromResult(res, target, r.Tool, r.Agent, req)
	if err != nil {
		m.Error = err.Error()
	}
	if m.Time.IsZero() {
		m.Time = r.Feed.now()
	}
	r.Feed.Record(m)
}

// SourceAddrs finds the local address the kernel would send to a
// destination from (a UDP connect, which sends nothing), cached per
// destination. Safe for concurrent use.
type SourceAddrs struct {
	mu    sync.Mutex
	cache map[netip.Addr]netip.Addr // guarded by mu
}

// maxSourceCache bounds the cache; past it the cache restarts.
const maxSourceCache = 1 << 18

// Of returns the source address for dst; the unspecified address of dst's
// family when there is no route.
func (s *SourceAddrs) Of(dst netip.Addr) netip.Addr {
	dst = dst.Unmap().WithZone("")
	s.mu.Lock()
	a, ok := s.cache[dst]
	s.mu.Unlock()
	if ok {
		return a
	}
	a = netip.IPv4Unspecified()
	if dst.Is6() {
		a = netip.IPv6Unspecified()
	}
	if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9))); err == nil {
		if la, ok := c.LocalAddr().(*net.UDPAddr); ok {
			if ip, ok := netip.AddrFromSlice(la.IP); ok {
				a = ip.Unmap()
			}
		}
		c.Close()
	}
	s.mu.Lock()
	if s.cache == nil || len(s.cache) >= maxSourceCache {
		s.cache = map[netip.Addr]netip.Addr{}
	}
	s.cache[dst] = a
	s.mu.Unlock()
	return a
}
