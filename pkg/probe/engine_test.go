package probe

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

var (
	tgt4  = netip.MustParseAddr("192.0.2.7")
	tgt6  = netip.MustParseAddr("2001:db8::7")
	other = netip.MustParseAddr("192.0.2.99").As16()
)

// TestPingFake runs measurements against scripted fake sockets in a
// synctest bubble, where time is fake and RTTs are therefore exact.
func TestPingFake(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		v6      bool
		req     Request
		respond func(c *fakeConn, s sentEcho)
		sendErr error
		txAfter time.Duration
		check   func(t *testing.T, r Result, err error)
	}{
		{
			name:    "kernel transmit stamp is the send time",
			req:     Request{Count: 3, Interval: 10 * ms, Timeout: 100 * ms},
			txAfter: 3 * time.Microsecond,
			respond: func(c *fakeConn, s sentEcho) { c.replyAfter(s, 5*ms) },
			check: func(t *testing.T, r Result, err error) {
				wantCounts(t, r, err, 3, 3, 0, 0)
				for _, p := range r.Packets {
					if p.RTT != 5*ms-3*time.Microsecond {
						t.Errorf("seq %d: rtt %v, want 5ms-3µs", p.Seq, p.RTT)
					}
				}
			},
		},
		{
			name:    "ipv6 transmit stamp",
			v6:      true,
			req:     Request{Target: tgt6, Count: 1, Timeout: 100 * ms},
			txAfter: 2 * time.Microsecond,
			respond: func(c *fakeConn, s sentEcho) { c.replyAfter(s, ms) },
			check: func(t *testing.T, r Result, err error) {
				wantCounts(t, r, err, 1, 1, 0, 0)
				if r.Packets[0].RTT != ms-2*time.Microsecond {
					t.Errorf("rtt %v", r.Packets[0].RTT)
				}
			},
		},
		{
			name:    "implausible transmit stamp ignored",
			req:     Request{Count: 1, Timeout: 100 * ms},
			txAfter: 2 * time.Second,
			respond: func(c *fakeConn, s sentEcho) { c.replyAfter(s, ms) },
			check: func(t *testing.T, r Result, err error) {
				wantCounts(t, r, err, 1, 1, 0, 0)
				if r.Packets[0].RTT != ms {
					t.Errorf("rtt %v, want the user-space based 1ms", r.Packets[0].RTT)
				}
			},
		},
		{
			name:    "all answered",
			req:     Request{Count: 4, Interval: 20 * ms, Timeout: 100 * ms},
			respond: func(c *fakeConn, s sentEcho) { c.replyAfter(s, 5*ms) },
			check: func(t *testing.T, r Result, err error) {
				wantCounts(t, r, err, 4, 4, 0, 0)
				for _, p := range r.Packets {
					if p.RTT != 5*ms || p.TTL != 61 {
						t.Errorf("seq %d: rtt %v ttl %d, want 5ms 61", p.Seq, p.RTT, p.TTL)
					}
				}
			},
		},
		{
			name:    "ipv6",
			v6:      true,
			req:     Request{Target: tgt6, Count: 2, Interval: 10 * ms, Timeout: 50 * ms},
			respond: func(c *fakeConn, s sentEcho) { c.replyAfter(s, 3*ms) },
			check: func(t *testing.T, r Result, err error) {
				wantCounts(t, r, err, 2, 2, 0, 0)
				if r.Packets[1].RTT != 3*ms {
					t.Errorf("rtt %v", r.Packets[1].RTT)
				}
			},
		},
		{
			// Replies arrive in the order 1, 2, 0; the Result and onPacket
			// stay in sequence order with each request's own RTT.
			name: "replies out of order",
			req:  Request{Count: 3, Interval: 10 * ms, Timeout: 100 * ms},
			respond: func(c *fakeConn, s sentEcho) {
				c.replyAfter(s, []time.Duration{50 * ms, 5 * ms, 1 * ms}[s.seq-firstSeq(c)])
			},
			check: func(t *testing.T, r Result, err error) {
				wantCounts(t, r, err, 3, 3, 0, 0)
				for i, want := range []time.Duration{50 * ms, 5 * ms, 1 * ms} {
					if p := r.Packets[i]; p.Seq != i || p.RTT != want {
						t.Errorf("packet %d: seq %d rtt %v, want rtt %v", i, p.Seq, p.RTT, want)
					}
				}
			},
		},
		{
			name:    "never answers is a result",
			req:     Request{Count: 3, Interval: 10 * ms, Timeout: 30 * ms},
			respond: nil,
			check: func(t *testing.T, r Result, err error) {
				wantCounts(t, r, err, 3, 0, 0, 0)
			},
		},
		{
			name: "duplicates counted apart",
			req:  Request{Count: 2, Interval: 10 * ms, Timeout: 50 * ms},
			respond: func(c *fakeConn, s sentEcho) {
				c.replyAfter(s, 2*ms)
				c.replyAfter(s, 4*ms)
				c.replyAfter(s, 6*ms)
			},
			check: func(t *testing.T, r Result, err error) {
				// Packet 1's duplicates arrive around the time its reply is
				// read and the measurement ends: those read by then count.
				wantCounts(t, r, err, 2, 2, r.Duplicates, 0)
				if r.Packets[0].Duplicates != 2 || r.Duplicates > 4 {
					t.Errorf("duplicates %d (of packet 0: %d), want packet 0's 2 and at most 2 of packet 1's",
						r.Duplicates, r.Packets[0].Duplicates)
				}
				if r.Packets[0].RTT != 2*ms {
					t.Errorf("rtt %v, want the first reply's", r.Packets[0].RTT)
				}
			},
		},
		{
			name: "late reply is lost and late",
			req:  Request{Count: 3, Interval: 100 * ms, Timeout: 50 * ms},
			respond: func(c *fakeConn, s sentEcho) {
				if s.seq == firstSeq(c)+0 {
					c.replyAfter(s, 70*ms) // after the 50ms deadline
				} else {
					c.replyAfter(s, 1*ms)
				}
			},
			check: func(t *testing.T, r Result, err error) {
				wantCounts(t, r, err, 3, 2, 0, 1)
				if r.Packets[0].Received || !r.Packets[0].Late {
					t.Errorf("packet 0 = %+v, want lost and late", r.Packets[0])
				}
			},
		},
		{
			name: "reply just inside grace but after deadline is late",
			req:  Request{Count: 2, Interval: 100 * ms, Timeout: 50 * ms},
			respond: func(c *fakeConn, s sentEcho) {
				c.replyAfter(s, 55*ms) // before expiry processing, after the deadline
			},
			check: func(t *testing.T, r Result, err error) {
				wantCounts(t, r, err, 2, 0, 0, 2)
			},
		},
		{
			name: "wrong source ignored",
			req:  Request{Count: 2, Interval: 10 * ms, Timeout: 30 * ms},
			respond: func(c *fakeConn, s sentEcho) {
				time.AfterFunc(ms, func() { c.reply(s, other, 0) })
			},
			check: func(t *testing.T, r Result, err error) { wantCounts(t, r, err, 2, 0, 0, 0) },
		},
		{
			name: "wrong token ignored",
			req:  Request{Count: 2, Interval: 10 * ms, Timeout: 30 * ms},
			respond: func(c *fakeConn, s sentEcho) {
				time.AfterFunc(ms, func() { c.reply(s, s.dst, 1) })
			},
			check: func(t *testing.T, r Result, err error) { wantCounts(t, r, err, 2, 0, 0, 0) },
		},
		{
			name: "wrong identifier ignored",
			req:  Request{Count: 1, Timeout: 30 * ms},
			respond: func(c *fakeConn, s sentEcho) {
				s.id++
				time.AfterFunc(ms, func() { c.reply(s, s.dst, 0) })
			},
			check: func(t *testing.T, r Result, err error) { wantCounts(t, r, err, 1, 0, 0, 0) },
		},
		{
			name:    "every send refused is an error",
			req:     Request{Count: 2, Interval: 10 * ms, Timeout: 30 * ms},
			sendErr: errFakeSend,
			check: func(t *testing.T, r Result, err error) {
				if !errors.Is(err, errFakeSend) || r.Sent != 2 || r.SendErrors != 2 {
					t.Errorf("err %v sent %d senderrors %d", err, r.Sent, r.SendErrors)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newFake(tc.v6, tc.respond)
				c.sendErr = tc.sendErr
				c.txAfter = tc.txAfter
				e := fakeEngine(c, tc.v6)
				defer e.Close()
				req := tc.req
				if !req.Target.IsValid() {
					req.Target = tgt4
				}
				var seen []int
				r, err := e.Ping(t.Context(), req, func(p Packet) { seen = append(seen, p.Seq) })
				tc.check(t, r, err)
				for i, s := range seen {
					if s != i {
						t.Fatalf("onPacket order %v", seen)
					}
				}
				if len(seen) != r.Sent {
					t.Errorf("onPacket called %d times for %d requests", len(seen), r.Sent)
				}
				st := e.Stats()
				if st.InFlight != 0 || st.Active != 0 {
					t.Errorf("state left behind: %+v", st)
				}
				// The engine's counters (exported as metrics) agree with
				// the one measurement it ran.
				if st.Late != uint64(r.Late) || st.SendErrors != uint64(r.SendErrors) || st.Sent != uint64(r.Sent-r.SendErrors) || st.Wakeups == 0 {
					t.Errorf("engine stats %+v, result late %d send errors %d sent %d", st, r.Late, r.SendErrors, r.Sent)
				}
			})
		})
	}
}

func firstSeq(c *fakeConn) uint16 { return c.sends()[0].seq }

func fakeEngine(c *fakeConn, v6 bool) *Engine {
	if v6 {
		return fakeEngineOpts(Options{}, nil, c)
	}
	return fakeEngineOpts(Options{}, c, nil)
}

func wantCounts(t *testing.T, r Result, err error, sent, recv, dups, late int) {
	t.Helper()
	if err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if r.Sent != sent || r.Received != recv || r.Duplicates != dups || r.Late != late {
		t.Errorf("sent/received/dups/late = %d/%d/%d/%d, want %d/%d/%d/%d",
			r.Sent, r.Received, r.Duplicates, r.Late, sent, recv, dups, late)
	}
	if len(r.Packets) != r.Sent {
		t.Errorf("%d packets for %d sent", len(r.Packets), r.Sent)
	}
}

// TestPingCancel checks that cancelling the context ends the measurement at
// once, returns the partial result and frees every piece of state.
func TestPingCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(false, nil) // never answers
		e := fakeEngine(c, false)
		defer e.Close()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(250*time.Millisecond, cancel)
		start := time.Now()
		r, err := e.Ping(ctx, Request{Target: tgt4, Count: 1000, Interval: 100 * time.Millisecond, Timeout: time.Second}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d != 250*time.Millisecond {
			t.Errorf("Ping returned after %v, want at cancellation (250ms)", d)
		}
		if r.Sent != 3 || r.Received != 0 {
			t.Errorf("partial result sent %d received %d, want 3 0", r.Sent, r.Received)
		}
		if st := e.Stats(); st.InFlight != 0 || st.Active != 0 {
			t.Errorf("state left behind: %+v", st)
		}
	})
}

// TestPingConcurrentSameTarget checks that measurements sharing a target
// and the sequence space never take each other's replies.
func TestPingConcurrentSameTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(false, func(c *fakeConn, s sentEcho) { c.replyAfter(s, 7*time.Millisecond) })
		e := fakeEngine(c, false)
		defer e.Close()
		const n = 50
		results := make(chan Result, n)
		for range n {
			go func() {
				r, err := e.Ping(t.Context(), Request{Target: tgt4, Count: 20, Interval: 10 * time.Millisecond, Timeout: 100 * time.Millisecond}, nil)
				if err != nil {
					t.Error(err)
				}
				results <- r
			}()
		}
		for range n {
			r := <-results
			if r.Received != 20 || r.Duplicates != 0 {
				t.Errorf("received %d dups %d, want 20 0", r.Received, r.Duplicates)
			}
		}
	})
}

// TestPingClosed checks that Close ends measurements in flight.
func TestPingClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(false, nil)
		e := fakeEngine(c, false)
		time.AfterFunc(50*time.Millisecond, func() { e.Close() })
		_, err := e.Ping(t.Context(), Request{Target: tgt4, Count: 10, Interval: 20 * time.Millisecond}, nil)
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
		if _, err := e.Ping(t.Context(), Request{Target: tgt4}, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("after Close: err = %v, want ErrClosed", err)
		}
	})
}

// TestPingNoSocket checks the error for a family without a socket.
func TestPingNoSocket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := fakeEngine(newFake(false, nil), false)
		defer e.Close()
		if _, err := e.Ping(t.Context(), Request{Target: tgt6}, nil); !errors.Is(err, ErrNoSocket) {
			t.Fatalf("err = %v, want ErrNoSocket", err)
		}
	})
}

// TestReadErrorsBackOff: transient socket errors do not stop the reader.
func TestReadErrorsBackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFake(false, func(c *fakeConn, s sentEcho) { c.replyAfter(s, time.Millisecond) })
		c.recvErrs = 20
		e := fakeEngine(c, false)
		defer e.Close()
		r, err := e.Ping(t.Context(), Request{Target: tgt4, Count: 3, Interval: time.Second, Timeout: 5 * time.Second}, nil)
		wantCounts(t, r, err, 3, 3, 0, 0)
	})
}
