package tcpecho

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/target"
)

// TestDelayedClient: a socat client inside a network namespace reaches the
// server through a userspace relay that holds every probe for a known
// delay. The application RTT must be at least that delay, and its median
// within 2 ms of the relay's applied delay plus the link's own round trip
// (stated tolerance); the server sees the client at the namespace's
// address, which the target policy must allow.
func TestDelayedClient(t *testing.T) {
	h := netlab.NewHost(t, netlab.Options{NoIPv6: true})
	const delay = 25 * time.Millisecond
	sink := &windowSink{}
	s, err := New(Options{
		Interval: 100 * time.Millisecond, Timeout: 800 * time.Millisecond, Window: time.Second, Sink: sink, SilentIntervals: 20,
		Policy: target.Policy{Allow: []netip.Prefix{netip.PrefixFrom(h.Addr4, 32)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(h.Local4, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	stop := serveUntil(t, s, ln, s.Serve)
	defer stop()

	relay := h.TCPRelay(netip.MustParseAddrPort(ln.Addr().String()), delay)
	socat(t, relay.Addr.String(), h.Name)
	waitFor(t, "20 echoes through the relay", func() bool {
		cs := connected(s)
		return len(cs) == 1 && cs[0].Received >= 20
	})
	c := connected(s)[0]
	if a, _ := netip.ParseAddrPort(c.Address); a.Addr() != h.Addr4 {
		t.Errorf("client at %s, want the namespace's %s", c.Address, h.Addr4)
	}
	if c.Lost != 0 {
		t.Errorf("lost %d through the relay", c.Lost)
	}
	if *c.RTTMin < ms64(delay) {
		t.Errorf("minimum RTT %.3f ms below the applied delay %v", *c.RTTMin, delay)
	}
	// The median RTT against the relay's own median applied delay.
	stop() // delivers the last windows
	var rtts []time.Duration
	for _, w := range sink.all() {
		rtts = append(rtts, w.RTTs...)
	}
	applied := relay.Applied()
	if len(rtts) < 20 || len(applied) < 20 {
		t.Fatalf("%d RTTs, %d applied delays", len(rtts), len(applied))
	}
	slices.Sort(rtts)
	slices.Sort(applied)
	mr, ma := rtts[len(rtts)/2], applied[len(applied)/2]
	if d := mr - ma; d < 0 || d > 2*time.Millisecond {
		t.Errorf("median RTT %v vs median applied delay %v: difference %v outside [0, 2ms]", mr, ma, d)
	}
	if c.Kernel == nil || c.Kernel.RTT <= 0 {
		t.Errorf("no kernel RTT: %+v", c.Kernel)
	}
	t.Logf("applied delay median %v; application RTT median %v; kernel tcpi_rtt %.3f ms, min_rtt %.3f ms",
		ma, mr, c.Kernel.RTT, c.Kernel.MinRTT)
}

func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
