package probe

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// ms is short for a millisecond in these tests.
const ms = time.Millisecond

// doneLog records the calls of a Start callback.
type doneLog struct {
	mu    sync.Mutex
	calls []doneCall
}

type doneCall struct {
	res Result
	err error
	at  time.Time
}

func (d *doneLog) done(r Result, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, doneCall{r, err, time.Now()})
}

// one returns the only call, failing the test unless there was exactly one.
func (d *doneLog) one(t *testing.T) doneCall {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.calls) != 1 {
		t.Fatalf("done called %d times, want once", len(d.calls))
	}
	return d.calls[0]
}

func wantNoState(t *testing.T, e *Engine) {
	t.Helper()
	if st := e.Stats(); st.InFlight != 0 || st.Active != 0 {
		t.Errorf("state left behind: %+v", st)
	}
}

// TestStartCompletes: a measurement begun with Start reports, once, what
// Ping would have, as soon as its last request settles, and leaves nothing
// behind.
func TestStartCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(false, func(c *fakeConn, s sentEcho) { c.replyAfter(s, 3*ms) })
		e := fakeEngine(c, false)
		defer e.Close()
		var d doneLog
		start := time.Now()
		e.Start(t.Context(), Request{Target: tgt4, Count: 3, Interval: 20 * ms, Timeout: 100 * ms}, d.done)
		time.Sleep(time.Second)
		got := d.one(t)
		wantCounts(t, got.res, got.err, 3, 3, 0, 0)
		for _, p := range got.res.Packets {
			if p.RTT != 3*ms {
				t.Errorf("seq %d: rtt %v, want 3ms", p.Seq, p.RTT)
			}
		}
		// The last reply comes at 43 ms; the loop reads it within pollInterval.
		if d := got.at.Sub(start); d < 43*ms || d > 43*ms+pollInterval {
			t.Errorf("done after %v, want within %v of the last reply (43ms)", d, pollInterval)
		}
		wantNoState(t, e)
	})
}

// TestStartMany: concurrent measurements each complete exactly once with
// their own replies.
func TestStartMany(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(false, func(c *fakeConn, s sentEcho) { c.replyAfter(s, 7*ms) })
		e := fakeEngine(c, false)
		defer e.Close()
		logs := make([]doneLog, 200)
		for i := range logs {
			tgt := netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 50)})
			e.Start(t.Context(), Request{Target: tgt, Count: 5, Interval: 10 * ms, Timeout: 100 * ms}, logs[i].done)
		}
		time.Sleep(time.Second)
		for i := range logs {
			got := logs[i].one(t)
			wantCounts(t, got.res, got.err, 5, 5, 0, 0)
		}
		wantNoState(t, e)
	})
}

// TestStartCancel: cancelling the context ends the measurement at once
// with the partial result and ctx.Err(), once.
func TestStartCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := fakeEngine(newFake(false, nil), false) // never answers
		defer e.Close()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(250*ms, cancel)
		var d doneLog
		start := time.Now()
		e.Start(ctx, Request{Target: tgt4, Count: 1000, Interval: 100 * ms, Timeout: time.Second}, d.done)
		time.Sleep(2 * time.Second)
		got := d.one(t)
		if !errors.Is(got.err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", got.err)
		}
		if at := got.at.Sub(start); at != 250*ms {
			t.Errorf("done after %v, want at cancellation (250ms)", at)
		}
		if got.res.Sent != 3 || got.res.Received != 0 {
			t.Errorf("partial result sent %d received %d, want 3 0", got.res.Sent, got.res.Received)
		}
		wantNoState(t, e)
	})
}

// TestStartClosed: Close ends running measurements with ErrClosed, and a
// Start after Close reports ErrClosed at once.
func TestStartClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := fakeEngine(newFake(false, nil), false)
		var d, after doneLog
		e.Start(t.Context(), Request{Target: tgt4, Count: 10, Interval: 20 * ms}, d.done)
		time.Sleep(50 * ms)
		e.Close()
		if got := d.one(t); !errors.Is(got.err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", got.err)
		}
		e.Start(t.Context(), Request{Target: tgt4}, after.done)
		if got := after.one(t); !errors.Is(got.err, ErrClosed) {
			t.Fatalf("after Close: err = %v, want ErrClosed", got.err)
		}
	})
}

// TestStartErrors: an invalid request and a family without a socket are
// reported at once; a measurement whose every send the kernel refused
// reports the send error, as Ping does.
func TestStartErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(false, nil)
		e := fakeEngine(c, false)
		defer e.Close()
		var bad, v6 doneLog
		e.Start(t.Context(), Request{Target: tgt4, Count: -1}, bad.done)
		if got := bad.one(t); got.err == nil {
			t.Errorf("count -1: no error")
		}
		e.Start(t.Context(), Request{Target: tgt6}, v6.done)
		if got := v6.one(t); !errors.Is(got.err, ErrNoSocket) {
			t.Errorf("IPv6 without a socket: err = %v, want ErrNoSocket", got.err)
		}
		c.sendErr = errFakeSend
		var d doneLog
		e.Start(t.Context(), Request{Target: tgt4, Count: 2, Interval: 10 * ms}, d.done)
		time.Sleep(time.Second)
		got := d.one(t)
		if !errors.Is(got.err, errFakeSend) || got.res.SendErrors != 2 {
			t.Errorf("err = %v, send errors %d; want the send error and 2", got.err, got.res.SendErrors)
		}
		wantNoState(t, e)
	})
}

// TestStartEach: each request is handed out once, in sequence order, as
// its fate becomes final (a reply, or its deadline for the lost one), on
// the engine's loop and before done, which gets them all again.
func TestStartEach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := 0
		c := newFake(false, func(c *fakeConn, s sentEcho) {
			if n++; n != 2 { // the second request is never answered
				c.replyAfter(s, 3*ms)
			}
		})
		e := fakeEngine(c, false)
		defer e.Close()
		var mu sync.Mutex
		var pkts []Packet
		var at []time.Duration
		var pktsAtDone int
		var d doneLog
		start := time.Now()
		e.StartEach(t.Context(), Request{Target: tgt4, Count: 3, Interval: 20 * ms, Timeout: 100 * ms},
			func(p Packet) {
				mu.Lock()
				defer mu.Unlock()
				pkts = append(pkts, p)
				at = append(at, time.Since(start))
			},
			func(r Result, err error) {
				mu.Lock()
				pktsAtDone = len(pkts)
				mu.Unlock()
				d.done(r, err)
			})
		time.Sleep(time.Second)
		got := d.one(t)
		wantCounts(t, got.res, got.err, 3, 2, 0, 0)
		mu.Lock()
		defer mu.Unlock()
		if len(pkts) != 3 || pktsAtDone != 3 {
			t.Fatalf("%d packets handed out (%d before done), want 3 before done", len(pkts), pktsAtDone)
		}
		for i, p := range pkts {
			if p.Seq != i || p.Received != (i != 1) {
				t.Errorf("packet %d: %+v", i, p)
			}
		}
		// seq 0 is answered at 3 ms and handed out then (within a poll);
		// seq 1 is lost only after its 100 ms deadline, so seq 2 (answered
		// at 43 ms) waits for it: order before speed.
		if at[0] > 3*ms+pollInterval {
			t.Errorf("seq 0 handed out at %v, want by %v", at[0], 3*ms+pollInterval)
		}
		if at[1] < 120*ms || at[2] != at[1] {
			t.Errorf("seq 1, 2 handed out at %v, %v; want together after seq 1's deadline (120 ms)", at[1], at[2])
		}
		wantNoState(t, e)
	})
}

// TestStartSharedContext: measurements of one context share one watch on
// it, which is gone once they have ended; cancelling the context ends
// every one of them, once, with ctx.Err(), and leaves nothing behind.
func TestStartSharedContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := fakeEngine(newFake(false, func(c *fakeConn, s sentEcho) { c.replyAfter(s, ms) }), false)
		defer e.Close()
		watches := func() int {
			e.mu.Lock()
			defer e.mu.Unlock()
			return len(e.watches)
		}
		ctx, cancel := context.WithCancel(t.Context())
		short := make([]doneLog, 50)
		for i := range short {
			e.Start(ctx, Request{Target: tgt4, Count: 2, Interval: 10 * ms}, short[i].done)
		}
		if n := watches(); n != 1 {
			t.Fatalf("%d context watches for 50 measurements of one context, want 1", n)
		}
		time.Sleep(time.Second)
		for i := range short {
			got := short[i].one(t)
			wantCounts(t, got.res, got.err, 2, 2, 0, 0)
		}
		if n := watches(); n != 0 {
			t.Fatalf("%d context watches after every measurement ended, want 0", n)
		}
		long := make([]doneLog, 50)
		for i := range long {
			e.Start(ctx, Request{Target: tgt4, Count: 100, Interval: 10 * ms}, long[i].done)
		}
		time.Sleep(55 * ms)
		cancel()
		time.Sleep(time.Second)
		for i := range long {
			got := long[i].one(t)
			if !errors.Is(got.err, context.Canceled) || got.res.Sent < 5 || got.res.Sent > 7 {
				t.Fatalf("measurement %d: err %v, sent %d; want context.Canceled after about 6", i, got.err, got.res.Sent)
			}
		}
		if n := watches(); n != 0 {
			t.Errorf("%d context watches after cancellation, want 0", n)
		}
		wantNoState(t, e)
	})
}
