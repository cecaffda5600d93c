package probe

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestPacing starts many measurements at once and checks on the fake clock
// that the engine spreads their sends at the configured rate: never more
// than a bucket's worth (Rate × burstWindow) in any burstWindow, and all of
// them within the time the rate allows.
func TestPacing(t *testing.T) {
	tests := []struct {
		rate    float64
		targets int
		count   int
	}{
		{rate: 1000, targets: 300, count: 1},
		{rate: 5000, targets: 1000, count: 2},
		{rate: 100, targets: 20, count: 3},
	}
	for _, tc := range tests {
		synctest.Test(t, func(t *testing.T) {
			c := newFake(false, func(c *fakeConn, s sentEcho) { c.replyAfter(s, time.Millisecond) })
			e := fakeEngineOpts(Options{Rate: tc.rate}, c, nil)
			defer e.Close()
			start := time.Now()
			var wg sync.WaitGroup
			for i := range tc.targets {
				wg.Go(func() {
					tgt := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
					r, err := e.Ping(t.Context(), Request{Target: tgt, Count: tc.count, Interval: 100 * time.Millisecond, Timeout: time.Second}, nil)
					if err != nil || r.Received != tc.count {
						t.Errorf("%v: received %d err %v", tgt, r.Received, err)
					}
				})
			}
			wg.Wait()
			sends := c.sends()
			n := tc.targets * tc.count
			if len(sends) != n {
				t.Fatalf("%d sends, want %d", len(sends), n)
			}
			// Token bucket: any run of sends from i to j holds at most
			// burst + rate×(t_j - t_i) of them (+1 for float rounding).
			burst := max(1, tc.rate*burstWindow.Seconds())
			for i := range sends {
				for j := i + 1; j < len(sends); j++ {
					dt := time.Duration(sends[j].wall - sends[i].wall).Seconds()
					if float64(j-i+1) > burst+tc.rate*dt+1 {
						t.Fatalf("rate %v: %d sends within %v", tc.rate, j-i+1, time.Duration(dt*1e9))
					}
					if dt > 1 {
						break
					}
				}
			}
			minSpan := time.Duration((float64(n) - burst) / tc.rate * float64(time.Second))
			span := time.Duration(sends[n-1].wall - start.UnixNano())
			if span < minSpan || span > minSpan+minSpan/10+10*time.Millisecond {
				t.Errorf("rate %v: %d sends took %v, want about %v", tc.rate, n, span, minSpan)
			}
		})
	}
}

// TestMeasHeap: after random pushes, key changes and removals, every
// entry's hidx is its index and the order is a min-heap's.
func TestMeasHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h measHeap
	var live []*meas
	check := func() {
		t.Helper()
		for i, e := range h {
			if e.m.hidx != i {
				t.Fatalf("entry %d has hidx %d", i, e.m.hidx)
			}
			if i > 0 && h[(i-1)/2].at > e.at {
				t.Fatalf("entry %d (%d) below its parent (%d)", i, e.at, h[(i-1)/2].at)
			}
		}
	}
	for step := range 5000 {
		switch op := r.IntN(4); {
		case op <= 1 || len(live) == 0:
			m := &meas{}
			h.push(m, r.Int64N(1000))
			live = append(live, m)
		case op == 2:
			m := live[r.IntN(len(live))]
			h.fix(m.hidx, r.Int64N(1000))
		default:
			k := r.IntN(len(live))
			m := live[k]
			h.remove(m.hidx)
			if m.hidx != -1 {
				t.Fatalf("step %d: removed entry keeps hidx %d", step, m.hidx)
			}
			live = append(live[:k], live[k+1:]...)
		}
		check()
	}
	if len(h) != len(live) {
		t.Fatalf("%d entries, %d live", len(h), len(live))
	}
}
