package monitor

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// TestStats: the counters and gauges /metrics reads: hosts by status,
// resolver failures, probe durations, and the per-host RTT records of
// Options.PerHostRTT.
func TestStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakePinger{}
		f.set("10.0.0.1", behaviour{recv: 2, dur: 2 * time.Second})
		m, stop := startMonitor(t, Options{Settings: testSettings(), Pinger: f, PerHostRTT: true,
			Immutable: []string{"10.0.0.1", "h2.test", "nowhere.test"}})
		defer stop()
		if s := m.Stats(); s.Hosts != (HostCounts{Init: 3}) || s.InFlightLimit <= 0 {
			t.Fatalf("before any probe: %+v", s)
		}
		time.Sleep(25 * time.Second) // two rounds of 10 s, probes of 2 s and 0.1 s
		synctest.Wait()
		s := m.Stats()
		if s.Hosts != (HostCounts{Valid: 2, Unreachable: 1}) {
			t.Errorf("hosts %+v, want 2 valid, 1 unreachable", s.Hosts)
		}
		got := map[string]HostRTT{}
		m.HostRTTs(func(rs []HostRTT) error {
			for _, r := range rs {
				got[r.Name] = r
			}
			return nil
		})
		// n1 probes of 10.0.0.1 (3 requests, 2 replies of 1 ms and
		// 1.2 ms, 2 s each), n2 of h2.test (0.1 s each), nf failures.
		r1 := got["10.0.0.1"]
		n1 := int(r1.Sent / 3)
		n2 := int(s.ProbeDuration.Total()) - n1
		nf := int(s.Unreachable)
		if n1 < 2 || n2 < 2 || nf < 2 || s.ResolveFailures != uint64(nf) || s.Probes != uint64(n1+n2+nf) {
			t.Errorf("probes %d: n1 %d, n2 %d, unreachable %d, resolve failures %d", s.Probes, n1, n2, nf, s.ResolveFailures)
		}
		if want := time.Duration(n1)*2*time.Second + time.Duration(n2)*100*time.Millisecond; s.ProbeDurationSum != want {
			t.Errorf("probe duration sum %v, want %v", s.ProbeDurationSum, want)
		}
		if r1.Received != uint64(2*n1) || r1.RTT.Total() != uint64(2*n1) || r1.Sum != time.Duration(n1)*2200*time.Microsecond {
			t.Errorf("10.0.0.1 per host: %+v", r1)
		}
		if r := got["nowhere.test"]; len(got) != 3 || r.Sent != 0 || r.RTT.Total() != 0 {
			t.Errorf("per-host records: %d, nowhere.test %+v", len(got), r)
		}
	})
}

// Without PerHostRTT nothing is kept per host.
func TestHostRTTsOff(t *testing.T) {
	m, err := New(Options{Pinger: &fakePinger{}, Immutable: []string{"10.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	m.HostRTTs(func([]HostRTT) error { calls++; return nil })
	if calls != 0 || m.order[0].rtt != nil {
		t.Errorf("per-host records kept without PerHostRTT")
	}
}

// TestHostCountsKept: the counts Stats reports, kept as hosts change state,
// equal a walk of the table at every moment: while probes start and end,
// fail, and hosts are added and deleted in the middle of their probes.
func TestHostCountsKept(t *testing.T) {
	for _, starter := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			f := &fakePinger{}
			f.set("10.0.0.1", behaviour{recv: 2, dur: 2 * time.Second})
			f.set("10.0.0.3", behaviour{recv: 0, dur: 3 * time.Second})
			var p Pinger = f
			if starter {
				p = &fakeStarter{fakePinger: f}
			}
			m, stop := startMonitor(t, Options{Settings: testSettings(), Pinger: p,
				Immutable: []string{"10.0.0.1", "h2.test", "nowhere.test", "10.0.0.3"}})
			defer stop()
			check := func(when string) {
				t.Helper()
				m.mu.RLock()
				kept, walked := m.counts, m.hostCounts()
				m.mu.RUnlock()
				if kept != walked {
					t.Fatalf("starter %v, %s: counts kept %+v, table %+v", starter, when, kept, walked)
				}
			}
			for i := range 40 {
				switch i {
				case 5:
					if err := m.Add(t.Context(), "10.0.0.9"); err != nil {
						t.Fatal(err)
					}
				case 12, 23:
					_ = m.Delete("10.0.0.9")
					if err := m.Add(t.Context(), "10.0.0.8"); err != nil && i == 12 {
						t.Fatal(err)
					}
				case 31:
					_ = m.Delete("10.0.0.8")
				}
				time.Sleep(700 * time.Millisecond)
				synctest.Wait()
				check(fmt.Sprintf("step %d", i))
			}
			if s := m.Stats(); s.Hosts.Valid == 0 || s.Hosts.Unreachable == 0 {
				t.Errorf("starter %v: hosts %+v, want some valid and some unreachable", starter, s.Hosts)
			}
		})
	}
}
