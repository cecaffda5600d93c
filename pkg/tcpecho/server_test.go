package tcpecho

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/target"
)

// TestSocatClients: three `socat TCP:... EXEC:cat` clients, the seed's
// trivial client, are probed, matched and timed; each is its own client
// (address and port), and the kernel's figures are filled in beside the
// application RTT.
func TestSocatClients(t *testing.T) {
	s, addr := startServer(t, Options{})
	for range 3 {
		socat(t, addr, "")
	}
	waitFor(t, "three clients with 10 echoes each", func() bool {
		cs := connected(s)
		if len(cs) != 3 {
			return false
		}
		for _, c := range cs {
			if c.Received < 10 {
				return false
			}
		}
		return true
	})
	keys := map[string]bool{}
	for _, c := range connected(s) {
		keys[c.Key] = true
		if c.Mode != "plain" || c.Name != "" {
			t.Errorf("client %s: mode %q name %q, want plain and no name", c.Key, c.Mode, c.Name)
		}
		// A loaded CI machine may hold socat past the 400 ms deadline now
		// and then; more than one loss in ten is a fault.
		if c.Lost*10 > c.Received || c.Stray != 0 || c.Duplicates != 0 {
			t.Errorf("client %s: lost %d of %d, stray %d, duplicates %d on loopback", c.Key, c.Lost, c.Sent, c.Stray, c.Duplicates)
		}
		if c.LastRTT == nil || *c.LastRTT <= 0 || *c.RTTMax >= float64(testTimeout/time.Millisecond) {
			t.Errorf("client %s: RTT %v..%v ms, want in (0, timeout)", c.Key, c.RTTMin, c.RTTMax)
		}
		if c.Kernel == nil || c.Kernel.RTT <= 0 {
			t.Errorf("client %s: no kernel RTT (TCP_INFO): %+v", c.Key, c.Kernel)
		}
	}
	if len(keys) != 3 {
		t.Errorf("keys %v: want three distinct", keys)
	}
}

// echoClient dials addr and echoes every byte, with hooks: it returns the
// connection; the echo goroutine stops when the connection closes or stop
// is closed (then the socket stays open but silent).
func echoClient(t *testing.T, addr string, stop <-chan struct{}) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := c.Read(buf)
			select {
			case <-stop:
				return
			default:
			}
			if n > 0 {
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

// TestBadClients: a client that stops echoing, one that never reads and
// one that floods are each disconnected with their own reason, while a
// socat client beside them loses nothing.
func TestBadClients(t *testing.T) {
	s, addr := startServer(t, Options{Interval: 100 * time.Millisecond, Timeout: 800 * time.Millisecond, SilentIntervals: 20})
	socat(t, addr, "")

	stop := make(chan struct{})
	stopper := echoClient(t, addr, stop)

	never, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer never.Close()

	flood, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	go func() {
		junk := make([]byte, 4096)
		for i := range junk {
			junk[i] = byte(i * 7)
		}
		for {
			if _, err := flood.Write(junk); err != nil {
				return
			}
		}
	}()

	waitFor(t, "the stopping client to echo", func() bool {
		c, ok := clientByLocal(s, stopper.LocalAddr().String())
		return ok && c.Received >= 3
	})
	close(stop)

	want := map[string]string{
		stopper.LocalAddr().String(): ReasonSilent,
		never.LocalAddr().String():   ReasonSilent,
		flood.LocalAddr().String():   ReasonGarbage,
	}
	waitFor(t, "the three bad clients to be gone", func() bool {
		for local := range want {
			c, ok := clientByLocal(s, local)
			if !ok || c.State != "gone" {
				return false
			}
		}
		return true
	})
	for local, reason := range want {
		c, _ := clientByLocal(s, local)
		if c.GoneReason != reason {
			t.Errorf("client %s gone for %q, want %q", local, c.GoneReason, reason)
		}
		if c.DisconnectedAt == nil {
			t.Errorf("client %s: no disconnected_at", local)
		}
	}
	// The server closed the silent client's socket.
	_ = never.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := io.ReadAll(never); err != nil && !errors.Is(err, net.ErrClosed) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("the never-reading client's connection was not closed")
		}
	}
	cs := connected(s)
	if len(cs) != 1 {
		t.Fatalf("connected %d clients, want the socat one only: %+v", len(cs), cs)
	}
	if good := cs[0]; good.Lost != 0 || good.Received < 3 {
		t.Errorf("the good client suffered: %+v", good)
	}
}

// TestLimits: the per-address limit and the target policy close a
// connection at once, before any probe.
func TestLimits(t *testing.T) {
	s, addr := startServer(t, Options{MaxPerAddr: 2})
	a := echoClient(t, addr, nil)
	b := echoClient(t, addr, nil)
	waitFor(t, "two clients", func() bool { return len(connected(s)) == 2 })
	if refusedAtOnce(t, addr) {
		t.Fatal("third client from one address was served; want the connection closed")
	}
	if st := s.Stats(); st.DeniedLimit != 1 || st.Connected != 2 {
		t.Errorf("stats %+v: want 1 denied by the limit, 2 connected", st)
	}
	_, _ = a, b

	deny, daddr := startServer(t, Options{Policy: target.Policy{Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	if refusedAtOnce(t, daddr) {
		t.Fatal("a denied address was served")
	}
	if st := deny.Stats(); st.DeniedPolicy != 1 || len(deny.Clients()) != 0 {
		t.Errorf("stats %+v, clients %v: want one denied by policy, none listed", st, deny.Clients())
	}
}

// TestWindows: each client's echoes arrive at the Sink as windows aligned
// to the window length, holding the probes sent in them, with both RTTs.
func TestWindows(t *testing.T) {
	sink := &windowSink{}
	s, addr := startServer(t, Options{Sink: sink, Window: 500 * time.Millisecond})
	cl := echoClient(t, addr, nil)
	waitFor(t, "three windows", func() bool { return len(sink.all()) >= 3 })
	ws := sink.all()
	for i, w := range ws {
		if w.Key != cl.LocalAddr().String() {
			t.Errorf("window %d key %q, want %q", i, w.Key, cl.LocalAddr())
		}
		if w.Start.UnixNano()%int64(500*time.Millisecond) != 0 || w.End.Sub(w.Start) != 500*time.Millisecond {
			t.Errorf("window %d [%v, %v) not aligned to 500ms", i, w.Start, w.End)
		}
		if w.Received > w.Sent || w.Received*10 < w.Sent*9 || len(w.RTTs) != w.Received || len(w.KernelRTTs) != w.Received {
			t.Errorf("window %d: sent %d received %d rtts %d kernel %d", i, w.Sent, w.Received, len(w.RTTs), len(w.KernelRTTs))
		}
		if i > 0 && !w.Start.After(ws[i-1].Start) {
			t.Errorf("windows out of order: %v after %v", w.Start, ws[i-1].Start)
		}
		if sum := w.Summary(); w.Received > 0 && (sum.Min <= 0 || sum.Loss != 0) {
			t.Errorf("window %d summary %+v", i, sum)
		}
	}
	_ = s
}

// refusedAtOnce dials addr and reports whether the connection got data
// (false: it was reset or closed before any probe; the server closes with
// a reset, which may already fail the dial).
func refusedAtOnce(t *testing.T, addr string) (served bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection neither served nor closed")
	}
	return err == nil
}
