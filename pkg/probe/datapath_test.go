package probe_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/probe"
)

// Tests on a real datapath: loopback, and hosts in network namespaces
// built by netlab. They send packets only to 127.0.0.0/8, ::1 and the
// netlab hosts.

const ms = time.Millisecond

// newEngine opens an engine in the test's namespace or skips (fails in CI).
func newEngine(t *testing.T, opts probe.Options) *probe.Engine {
	t.Helper()
	e, err := probe.New(opts)
	if err != nil {
		if errors.Is(err, probe.ErrNoSocket) {
			netlab.Unavailable(t, err.Error())
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func ping(t *testing.T, e *probe.Engine, req probe.Request) probe.Result {
	t.Helper()
	r, err := e.Ping(t.Context(), req, nil)
	if err != nil {
		t.Fatalf("Ping %v: %v", req.Target, err)
	}
	return r
}

func TestLoopback(t *testing.T) {
	e := newEngine(t, probe.Options{})
	targets := []string{"127.0.0.1", "127.3.2.1"}
	if e.HasIPv6() {
		targets = append(targets, "::1")
	}
	for _, a := range targets {
		t.Run(a, func(t *testing.T) {
			r := ping(t, e, probe.Request{Target: netip.MustParseAddr(a), Count: 20, Interval: 10 * ms, Timeout: time.Second})
			if r.Sent != 20 || r.Received != 20 || r.Duplicates != 0 || r.Late != 0 {
				t.Fatalf("sent %d received %d dups %d late %d", r.Sent, r.Received, r.Duplicates, r.Late)
			}
			for _, p := range r.Packets {
				if p.RTT <= 0 || p.RTT > 10*ms || p.TTL != 64 {
					t.Errorf("seq %d: rtt %v ttl %d", p.Seq, p.RTT, p.TTL)
				}
			}
		})
	}
}

// TestConcurrentLoopback runs many measurements at once over the shared
// sockets: every reply must reach its own measurement.
func TestConcurrentLoopback(t *testing.T) {
	e := newEngine(t, probe.Options{})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			tgt := netip.AddrFrom4([4]byte{127, 1, byte(i / 10), byte(i%10 + 1)})
			if i%3 == 0 {
				tgt = netip.MustParseAddr("127.0.0.1") // shared target, shared sequence space
			}
			r, err := e.Ping(t.Context(), probe.Request{Target: tgt, Count: 10, Interval: 10 * ms, Timeout: time.Second}, nil)
			if err != nil || r.Received != 10 || r.Duplicates != 0 {
				t.Errorf("%v: received %d dups %d err %v", tgt, r.Received, r.Duplicates, err)
			}
		})
	}
	wg.Wait()
	// Unmatched must stay 0: the raw socket's BPF filter, and the drain of
	// what was queued before it, keep other processes' replies out. (Only
	// one with the same random identifier, about 1 in 65,536, gets through.)
	if st := e.Stats(); st.InFlight != 0 || st.Active != 0 || st.Unmatched != 0 || st.Matched != st.Sent {
		t.Errorf("after the run: %+v", st)
	}
}

// TestLoss checks the measured loss against nftables dropping 30 % of the
// requests at random: the number lost out of n is Binomial(n, 0.3), and the
// test accepts mean ± 4 standard deviations (a false failure about once in
// 16,000 runs).
func TestLoss(t *testing.T) {
	h := netlab.NewHost(t, netlab.Options{})
	h.DropEchoPercent(30)
	e := newEngine(t, probe.Options{})
	targets := []netip.Addr{h.Addr4}
	if e.HasIPv6() {
		targets = append(targets, h.Addr6)
	}
	for _, tgt := range targets {
		t.Run(tgt.String(), func(t *testing.T) {
			t.Parallel()
			const n, p = 200, 0.30
			r := ping(t, e, probe.Request{Target: tgt, Count: n, Interval: 10 * ms, Timeout: 200 * ms})
			lost := r.Sent - r.Received
			mean, sd := n*p, math.Sqrt(n*p*(1-p))
			if r.Sent != n || math.Abs(float64(lost)-mean) > 4*sd {
				t.Fatalf("lost %d of %d, want %.0f ± %.0f", lost, r.Sent, mean, 4*sd)
			}
			t.Logf("lost %d of %d (expected %.0f ± %.1f at 4σ)", lost, n, mean, 4*sd)
		})
	}
}

// TestDropAll: a host that never answers is a result with 100 % loss.
func TestDropAll(t *testing.T) {
	h := netlab.NewHost(t, netlab.Options{})
	h.DropAll()
	e := newEngine(t, probe.Options{})
	for _, a := range []netip.Addr{h.Addr4, h.Addr6} {
		if a.Is6() && !e.HasIPv6() {
			continue
		}
		r := ping(t, e, probe.Request{Target: a, Count: 5, Interval: 10 * ms, Timeout: 50 * ms})
		if r.Sent != 5 || r.Received != 0 {
			t.Errorf("%v: sent %d received %d, want 5 0", a, r.Sent, r.Received)
		}
	}
}

// TestDelay checks RTTs against a responder that answers after delays
// drawn from Uniform(5 ms, 25 ms) with a fixed seed. Each RTT must lie
// between the delay the responder actually applied (from the request's
// kernel timestamp to just before its send syscall) and the end of that
// syscall plus linkSlack, which covers the two veth traversals. (The applied delay,
// not the drawn one, is the truth: Go timers fire up to milliseconds late on
// a loaded machine.) The jitter (mean
// absolute difference of consecutive RTTs) must match the applied delays'
// to within linkSlack, and the drawn delays' the distribution's expected
// value (b-a)/3 to within 4 standard errors.
func TestDelay(t *testing.T) {
	const linkSlack = 500 * time.Microsecond
	h := netlab.NewHost(t, netlab.Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	lo, hi := 5*ms, 25*ms
	resp := h.Respond(func() time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo))) })
	e := newEngine(t, probe.Options{})
	fams := []netip.Addr{h.Addr4}
	if e.HasIPv6() {
		fams = append(fams, h.Addr6)
	}
	off := 0
	for _, tgt := range fams {
		const n = 100
		r := ping(t, e, probe.Request{Target: tgt, Count: n, Interval: 10 * ms, Timeout: time.Second})
		ap := resp.Applied()[off:]
		off += n
		if r.Received != n || len(ap) < n {
			t.Fatalf("%v: received %d, responder saw %d", tgt, r.Received, len(ap))
		}
		var rtt, got, want []time.Duration
		for i, p := range r.Packets {
			a := ap[i]
			if p.RTT < a.Got || p.RTT > a.Done+linkSlack {
				t.Errorf("%v seq %d: rtt %v, applied %v..%v (drawn %v)", tgt, i, p.RTT, a.Got, a.Done, a.Want)
			}
			rtt, got, want = append(rtt, p.RTT), append(got, a.Got), append(want, a.Want)
		}
		jr, jg, jw := jitter(rtt), jitter(got), jitter(want)
		// |X-Y| for X, Y ~ U(a,b): mean (b-a)/3, variance (b-a)²/18.
		exp := float64(hi-lo) / 3
		se := float64(hi-lo) / math.Sqrt(18) / math.Sqrt(n-1) * 1.5 // 1.5: consecutive differences are correlated
		if math.Abs(float64(jr-jg)) > float64(linkSlack) {
			t.Errorf("%v: jitter %v, of the applied delays %v", tgt, jr, jg)
		}
		if math.Abs(float64(jw)-exp) > 4*se {
			t.Errorf("%v: jitter of drawn delays %v, expected %v ± %v", tgt, jw, time.Duration(exp), time.Duration(4*se))
		}
		t.Logf("%v: jitter measured %v, applied %v, drawn %v, expected %v", tgt, jr, jg, jw, time.Duration(exp))
	}
}

// TestDuplicates checks on a real datapath that a host answering every
// request twice yields every request received once and the second answers
// counted apart, as duplicates.
func TestDuplicates(t *testing.T) {
	h := netlab.NewHost(t, netlab.Options{})
	resp := h.Respond(func() time.Duration { return ms })
	resp.SetCopies(2)
	e := newEngine(t, probe.Options{})
	fams := []netip.Addr{h.Addr4}
	if e.HasIPv6() {
		fams = append(fams, h.Addr6)
	}
	for _, tgt := range fams {
		const n = 20
		// The interval exceeds the delay, so each request's duplicate is
		// in before the next request; only the last one's may come after
		// the measurement ended (as with ping -c).
		r := ping(t, e, probe.Request{Target: tgt, Count: n, Interval: 20 * ms, Timeout: time.Second})
		if r.Sent != n || r.Received != n || r.Late != 0 || r.Duplicates < n-1 || r.Duplicates > n {
			t.Errorf("%v: sent %d received %d late %d duplicates %d, want %d %d 0 %d..%d",
				tgt, r.Sent, r.Received, r.Late, r.Duplicates, n, n, n-1, n)
		}
		for _, p := range r.Packets[:n-1] {
			if !p.Received || p.Duplicates != 1 {
				t.Errorf("%v seq %d: received %v duplicates %d, want true 1", tgt, p.Seq, p.Received, p.Duplicates)
			}
		}
	}
}

// jitter is the mean absolute difference of consecutive values (RFC 4689
// IPDV, averaged), as DESIGN.md defines it.
func jitter(v []time.Duration) time.Duration {
	var s time.Duration
	for i := 1; i < len(v); i++ {
		d := v[i] - v[i-1]
		s += max(d, -d)
	}
	return s / time.Duration(len(v)-1)
}

// TestPerPacketOptions checks that TTL, TOS and source address travel per
// packet on the shared socket: the responder reports what it received.
func TestPerPacketOptions(t *testing.T) {
	h := netlab.NewHost(t, netlab.Options{})
	resp := h.Respond(func() time.Duration { return 0 })
	e := newEngine(t, probe.Options{})
	cases := []probe.Request{
		{Target: h.Addr4, TTL: 7, TOS: 0xb8, Source: h.Local4},
		{Target: h.Addr4},
	}
	if e.HasIPv6() {
		cases = append(cases, probe.Request{Target: h.Addr6, TTL: 9, TOS: 0x20, Source: h.Local6})
	}
	for i, req := range cases {
		req.Count, req.Interval, req.Timeout = 1, 10*ms, time.Second
		r := ping(t, e, req)
		if r.Received != 1 {
			t.Fatalf("case %d: no reply", i)
		}
		a := resp.Applied()[i]
		wantTTL := req.TTL
		if wantTTL == 0 {
			wantTTL = 64
		}
		if a.TTL != wantTTL || a.TOS != req.TOS || (req.Source.IsValid() && a.From != req.Source) {
			t.Errorf("case %d: host saw ttl %d tos %#x from %v; sent %+v", i, a.TTL, a.TOS, a.From, req)
		}
	}
	// A source address that is not ours: the kernel refuses every send.
	_, err := e.Ping(t.Context(), probe.Request{Target: h.Addr4, Source: netip.MustParseAddr("10.200.255.254"), Timeout: 50 * ms}, nil)
	if err == nil {
		t.Errorf("foreign source address: no error")
	}
}

// dgramEngine opens an engine on datagram sockets inside h's namespace and
// closes it when the test ends.
func dgramEngine(t *testing.T, h *netlab.Host) *probe.Engine {
	t.Helper()
	var e *probe.Engine
	if err := h.Do(func() (err error) {
		e, err = probe.New(probe.Options{Mode: probe.ModeDgram})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestDgramMode runs the engine on unprivileged datagram ICMP sockets in a
// namespace whose net.ipv4.ping_group_range allows every group (the
// sysctl is per namespace), against the namespace's loopback and across the
// veth link to the test's namespace.
func TestDgramMode(t *testing.T) {
	h := netlab.NewHost(t, netlab.Options{})
	h.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	e := dgramEngine(t, h)
	targets := []netip.Addr{netip.MustParseAddr("127.0.0.1"), h.Local4}
	if e.HasIPv6() {
		targets = append(targets, netip.MustParseAddr("::1"), h.Local6)
	}
	for _, tgt := range targets {
		r := ping(t, e, probe.Request{Target: tgt, Count: 5, Interval: 10 * ms, Timeout: time.Second, TTL: 5})
		if r.Received != 5 || r.Packets[0].RTT <= 0 {
			t.Errorf("%v: received %d of 5", tgt, r.Received)
		}
	}
}

// TestDgramPerPacketOptions checks TTL, TOS and source on datagram sockets:
// the engine and the responder both live in the namespace (the kernel's own
// echo replies are off there), and the responder reports what it received.
func TestDgramPerPacketOptions(t *testing.T) {
	h := netlab.NewHost(t, netlab.Options{})
	h.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	resp := h.Respond(func() time.Duration { return 2 * ms })
	e := dgramEngine(t, h)
	cases := []probe.Request{
		{Target: netip.MustParseAddr("127.0.0.1"), TTL: 3, TOS: 0x28},
		{Target: h.Addr4, TTL: 200, Source: netip.MustParseAddr("127.0.0.9")},
	}
	if e.HasIPv6() {
		cases = append(cases, probe.Request{Target: netip.MustParseAddr("::1"), TTL: 4, TOS: 0x40})
	}
	for i, req := range cases {
		req.Count, req.Timeout = 1, time.Second
		r := ping(t, e, req)
		if r.Received != 1 || r.Packets[0].RTT < 2*ms {
			t.Fatalf("case %d: received %d rtt %v", i, r.Received, r.Packets[0].RTT)
		}
		a := resp.Applied()[i]
		if a.TTL != req.TTL || a.TOS != req.TOS || (req.Source.IsValid() && a.From != req.Source) {
			t.Errorf("case %d: host saw ttl %d tos %#x from %v; sent %+v", i, a.TTL, a.TOS, a.From, req)
		}
	}
}

// TestNoSocketError checks the error when datagram sockets are not allowed
// (this namespace's ping_group_range is set to "1 0") and raw ones are not
// asked for: it must name both fixes.
func TestNoSocketError(t *testing.T) {
	h := netlab.NewHost(t, netlab.Options{NoIPv6: true})
	h.Sysctl("net.ipv4.ping_group_range", "1 0")
	err := h.Do(func() error {
		e, err := probe.New(probe.Options{Mode: probe.ModeDgram})
		if err == nil {
			e.Close()
		}
		return err
	})
	if !errors.Is(err, probe.ErrNoSocket) {
		t.Fatalf("err = %v, want ErrNoSocket", err)
	}
	for _, want := range []string{"ping_group_range", "CAP_NET_RAW"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestBatchedSendRefusedOne: requests leave in batches (one sendmmsg per
// socket); one the kernel refuses in the middle of a batch fails alone,
// and the ones after it in the same batch still go out and are answered.
func TestBatchedSendRefusedOne(t *testing.T) {
	e := newEngine(t, probe.Options{})
	type outcome struct {
		res probe.Result
		err error
	}
	const n = 40
	results := make(chan outcome, n)
	for i := range n {
		req := probe.Request{Target: netip.AddrFrom4([4]byte{127, 2, 0, byte(i + 1)}), Count: 3, Interval: 10 * ms, Timeout: time.Second}
		if i == n/2 {
			req.Source = netip.MustParseAddr("10.200.255.254") // not ours: refused
		}
		e.Start(t.Context(), req, func(r probe.Result, err error) { results <- outcome{r, err} })
	}
	refused := 0
	for range n {
		o := <-results
		switch {
		case o.res.Target == netip.AddrFrom4([4]byte{127, 2, 0, n/2 + 1}):
			refused++
			if o.err == nil || o.res.SendErrors != 3 {
				t.Errorf("refused source: err %v, send errors %d", o.err, o.res.SendErrors)
			}
		case o.err != nil || o.res.Received != 3:
			t.Errorf("%v: received %d, err %v", o.res.Target, o.res.Received, o.err)
		}
	}
	if refused != 1 {
		t.Errorf("%d results for the refused measurement", refused)
	}
}
