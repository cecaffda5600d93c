package monitor

import (
	"context"
	"errors"
	"fmt"
	"github.com/pingapi/pingapi/pkg/wire"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// testSettings: rounds of 10 s, probes of 3 requests 1 s apart.
func testSettings() Settings {
	return Settings{ProbeInterval: 10 * time.Second, PingCount: 3, PingInterval: time.Second, Tolerance: 1, DataLength: 56}
}

// startMonitor runs a monitor in the current synctest bubble and returns it
// with a stop function that ends Run and waits for it.
func startMonitor(t *testing.T, opts Options) (*Monitor, func()) {
	t.Helper()
	if opts.Resolve == nil {
		opts.Resolve = fakeResolve
	}
	if opts.LookupAll == nil {
		opts.LookupAll = fakeLookupAll
	}
	if opts.Policy == nil {
		opts.Policy = testPolicy
	}
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	return m, func() { cancel(); <-done }
}

// startedAt reports whether a probe that started at got started in its
// slot want: at it, or at most dispatchSlack before.
func startedAt(got, want time.Time) bool {
	return !got.After(want) && want.Sub(got) <= dispatchSlack
}

func TestSchedulerSpreadsStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var names []string
		for i := range 1000 {
			names = append(names, fmt.Sprintf("10.1.%d.%d", i/250, i%250+1))
		}
		f := &fakePinger{}
		t0 := time.Now()
		m, stop := startMonitor(t, Options{Settings: testSettings(), Immutable: names, Pinger: f})
		time.Sleep(10*time.Second - time.Nanosecond)
		synctest.Wait()
		stop()
		perSecond := map[int64]int{}
		for _, n := range names {
			calls := f.callsTo(n)
			if len(calls) != 1 {
				t.Fatalf("%s probed %d times in one round, want 1", n, len(calls))
			}
			if want := t0.Add(spread(n, 10*time.Second)); !startedAt(calls[0], want) {
				t.Errorf("%s started at +%v, want +%v (its hash offset) or at most %v before", n, calls[0].Sub(t0), want.Sub(t0), dispatchSlack)
			}
			perSecond[int64(calls[0].Sub(t0)/time.Second)]++
		}
		for s, c := range perSecond {
			if c > 200 { // 100 expected per second; a herd would put them all in one
				t.Errorf("%d starts in second %d: not spread", c, s)
			}
		}
		if st := m.Stats(); st.Overruns+st.Saturated+st.LateRounds != 0 {
			t.Errorf("stats = %+v, want no skips", st)
		}
	})
}

// TestSchedulerPhaseAcrossRestarts starts the scheduler in the middle of a
// round: hosts whose slot has passed wait for the next round (no herd), the
// others start at their slot, and every start lies at its hash offset from
// a multiple of probe-interval, whenever the process started.
func TestSchedulerPhaseAcrossRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var names []string
		for i := range 200 {
			names = append(names, fmt.Sprintf("10.3.0.%d", i+1))
		}
		t0 := time.Now() // the bubble's clock starts on a multiple of 10 s
		time.Sleep(4 * time.Second)
		f := &fakePinger{}
		_, stop := startMonitor(t, Options{Settings: testSettings(), Immutable: names, Pinger: f})
		time.Sleep(16*time.Second - time.Nanosecond) // to t0+20 s
		synctest.Wait()
		stop()
		for _, n := range names {
			off := spread(n, 10*time.Second)
			want := []time.Time{t0.Add(10*time.Second + off)}
			if off >= 4*time.Second {
				want = append([]time.Time{t0.Add(off)}, want...)
			}
			calls := f.callsTo(n)
			if len(calls) != len(want) {
				t.Fatalf("%s (offset %v): %d probes, want %d", n, off, len(calls), len(want))
			}
			for k := range want {
				if !startedAt(calls[k], want[k]) {
					t.Errorf("%s probe %d at +%v, want +%v", n, k, calls[k].Sub(t0), want[k].Sub(t0))
				}
			}
		}
	})
}

// TestSchedulerIsolatesSlowHosts runs with a plain Pinger (a goroutine per
// probe) and with a Starter (the engine's callback, as serve uses it).
func TestSchedulerIsolatesSlowHosts(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("starter=%v", async), func(t *testing.T) { testIsolatesSlowHosts(t, async) })
	}
}

func testIsolatesSlowHosts(t *testing.T, async bool) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakePinger{}
		var pinger Pinger = f
		fs := &fakeStarter{fakePinger: f}
		if async {
			pinger = fs
		}
		f.set("10.0.0.1", behaviour{block: true})                         // never finishes
		f.set("10.0.0.2", behaviour{err: errors.New("sendto: no route")}) // fails
		names := []string{"10.0.0.1", "10.0.0.2", "slow.test", "nowhere.test", "10.0.0.3", "h4.test"}
		t0 := time.Now()
		m, stop := startMonitor(t, Options{Settings: testSettings(), Immutable: names, Pinger: pinger})
		time.Sleep(25 * time.Second) // two and a half rounds
		synctest.Wait()
		for _, n := range []string{"10.0.0.3", "10.0.0.4"} {
			calls := f.callsTo(n)
			if len(calls) != 3 {
				t.Fatalf("%s probed %d times, want 3", n, len(calls))
			}
			name := n
			if n == "10.0.0.4" {
				name = "h4.test"
			}
			for k, at := range calls {
				if want := t0.Add(time.Duration(k)*10*time.Second + spread(name, 10*time.Second)); !at.Equal(want) {
					t.Errorf("%s probe %d at +%v, want +%v", n, k, at.Sub(t0), want.Sub(t0))
				}
			}
			if r, _ := m.Lookup(name); r.Status != wire.StatusValid || !r.Alive {
				t.Errorf("%s: %+v, want valid and alive", name, r)
			}
		}
		if got := len(f.callsTo("10.0.0.1")); got != 1 {
			t.Errorf("blocked host started %d probes, want 1 (later rounds skip it)", got)
		}
		want := map[string]wire.Status{"10.0.0.1": wire.StatusInit, "10.0.0.2": wire.StatusUnreachable, "slow.test": wire.StatusUnreachable, "nowhere.test": wire.StatusUnreachable}
		for n, st := range want {
			if r, _ := m.Lookup(n); r.Status != st || r.Validity {
				t.Errorf("%s: status %s validity %v, want %s, false", n, r.Status, r.Validity, st)
			}
		}
		if st := m.Stats(); st.Overruns != 2 {
			t.Errorf("overruns = %d, want 2 (the blocked host, rounds 2 and 3)", st.Overruns)
		}
		// With a Starter, every probe of a host with an address goes
		// through Start: 10.0.0.1 once, 10.0.0.2 and 10.0.0.3 three times,
		// h4.test twice (its first probe resolves it on a goroutine).
		if n := fs.starts.Load(); async && n != 9 {
			t.Errorf("%d probes through Start, want 9", n)
		}
		stop() // returns only once the blocked probe's done has run
		if n := m.inFlight.Load(); n != 0 {
			t.Errorf("%d probes in flight after stop", n)
		}
	})
}

func TestDeadRule(t *testing.T) {
	tests := []struct {
		recv  int
		alive bool
	}{{10, true}, {7, true}, {6, false}, {0, false}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.recv), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakePinger{}
				f.set("10.0.0.1", behaviour{recv: tt.recv, dur: time.Second})
				m, stop := startMonitor(t, Options{Pinger: f, Immutable: []string{"10.0.0.1"}}) // Ping903 defaults
				defer stop()
				time.Sleep(61 * time.Second)
				synctest.Wait()
				r, ok := m.Lookup("10.0.0.1")
				if !ok || !r.Validity || r.Alive != tt.alive || r.Xmit != 10 || r.Recv != tt.recv {
					t.Fatalf("record %+v, want xmit 10 recv %d alive %v", r, tt.recv, tt.alive)
				}
				if wantLoss := float64(10-tt.recv) * 10; r.Loss != wantLoss {
					t.Errorf("loss %v, want %v", r.Loss, wantLoss)
				}
			})
		})
	}
}

// TestDuplicatesInRecord: the duplicate replies of the last probe are the
// record's dup member (check_ping warns on them), never part of recv.
func TestDuplicatesInRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakePinger{}
		f.set("10.0.0.1", behaviour{recv: 2, dur: time.Second, dup: 3})
		f.set("10.0.0.2", behaviour{recv: 3, dur: time.Second})
		m, stop := startMonitor(t, Options{Settings: testSettings(), Pinger: f, Immutable: []string{"10.0.0.1", "10.0.0.2"}})
		defer stop()
		time.Sleep(21 * time.Second)
		synctest.Wait()
		for name, want := range map[string][2]int{"10.0.0.1": {2, 3}, "10.0.0.2": {3, 0}} {
			r, ok := m.Lookup(name)
			if !ok || !r.Validity || r.Recv != want[0] || r.Dup != want[1] {
				t.Errorf("%s: record %+v, want recv %d dup %d", name, r, want[0], want[1])
			}
		}
	})
}

func TestStatusTransitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakePinger{}
		f.set("10.0.0.1", behaviour{recv: 3, dur: 3 * time.Second})
		off := spread("10.0.0.1", 10*time.Second)
		m, stop := startMonitor(t, Options{Settings: testSettings(), Pinger: f, Immutable: []string{"10.0.0.1"}})
		defer stop()
		status := func() wire.Status { synctest.Wait(); r, _ := m.Lookup("10.0.0.1"); return r.Status }
		if s := status(); s != wire.StatusInit {
			t.Fatalf("before the first probe: %s", s)
		}
		time.Sleep(off + time.Second)
		if s := status(); s != wire.StatusInit {
			t.Fatalf("during the first probe: %s, want init", s)
		}
		time.Sleep(3 * time.Second)
		if s := status(); s != wire.StatusValid {
			t.Fatalf("after the first probe: %s, want valid", s)
		}
		time.Sleep(7 * time.Second) // into the second probe
		if s := status(); s != wire.StatusProbing {
			t.Fatalf("during the second probe: %s, want probing", s)
		}
		r, _ := m.Lookup("10.0.0.1")
		if r.TMin != 1 || r.TMax != 1.2 || r.Jitter == 0 || r.StopTimestamp <= r.StartTimestamp {
			t.Errorf("statistics of the first probe: %+v", r)
		}
	})
}

func TestChangesTakeEffectNextRound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakePinger{}
		m, stop := startMonitor(t, Options{Settings: testSettings(), Pinger: f, Immutable: []string{"10.0.0.1"}})
		defer stop()
		time.Sleep(time.Second)
		if err := m.Add(t.Context(), "10.0.0.2"); err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Lookup("10.0.0.2"); ok {
			t.Fatal("added host in the table before the next round")
		}
		if err := m.Add(t.Context(), "10.0.0.2"); !errors.Is(err, ErrExists) {
			t.Fatalf("second Add: %v, want ErrExists", err)
		}
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if r, ok := m.Lookup("10.0.0.2"); !ok || r.Status != wire.StatusInit {
			t.Fatalf("at the next round: %+v %v, want present in init", r, ok)
		}
		if err := m.Delete("10.0.0.2"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if _, ok := m.Lookup("10.0.0.2"); ok {
			t.Fatal("deleted host still in the table after the next round")
		}
		if n := len(f.callsTo("10.0.0.2")); n != 1 {
			t.Errorf("added host probed %d times, want 1 (round 2 only)", n)
		}
	})
}

func TestSchedulerBoundsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakePinger{}
		var names []string
		for i := 1; i <= 5; i++ {
			n := fmt.Sprintf("10.0.0.%d", i)
			f.set(n, behaviour{block: true}) // an engine that never finishes
			names = append(names, n)
		}
		m, stop := startMonitor(t, Options{Settings: testSettings(), Immutable: names, Pinger: f, MaxInFlight: 2})
		time.Sleep(10*time.Second - time.Nanosecond)
		synctest.Wait()
		st := m.Stats()
		stop()
		if calls := len(f.calls); calls != 2 || st.Saturated != 3 {
			t.Fatalf("%d probes started, %d saturated; want 2 and 3", calls, st.Saturated)
		}
	})
}

func TestInFlightLimit(t *testing.T) {
	m := newTestMonitor(t, nil, nil) // rounds of 10 s, probes of 2 s + 1 s
	for _, tt := range []struct{ hosts, want int }{{0, 1024}, {1000, 1624}, {100000, 61024}} {
		if got := m.inFlightLimit(tt.hosts); got != tt.want {
			t.Errorf("inFlightLimit(%d) = %d, want %d", tt.hosts, got, tt.want)
		}
	}
	d, _ := New(Options{Pinger: &fakePinger{}})
	if got := d.inFlightLimit(100000); got != 2*16666+1024 {
		t.Errorf("at the defaults, 100,000 hosts: %d", got)
	}
}

func TestSchedulerSkipsRoundsWhenLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var skew atomic.Int64 // the clock jumps, as after a suspend
		now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		f := &fakePinger{}
		names := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}
		m, stop := startMonitor(t, Options{Settings: testSettings(), Immutable: names, Pinger: f, Now: now})
		defer stop()
		time.Sleep(time.Nanosecond)
		skew.Store(int64(35 * time.Second))
		time.Sleep(20 * time.Second)
		synctest.Wait()
		// Round 0 is finished late, rounds 1 and 2 are skipped, round 3
		// (t0+30 s, where the clock now is) runs.
		if st := m.Stats(); st.LateRounds != 2 {
			t.Errorf("late rounds = %d, want 2 (the clock jumped from round 0 into round 3)", st.LateRounds)
		}
		for _, n := range names {
			if c := len(f.callsTo(n)); c < 1 || c > 3 {
				t.Errorf("%s probed %d times in rounds 0, 3 and 4, want 1 to 3", n, c)
			}
		}
	})
}
