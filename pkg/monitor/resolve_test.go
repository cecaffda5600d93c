package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/pingapi/pingapi/pkg/target"
)

// countingResolve resolves every name to 10.0.0.1 but "bad.test", which does not exist,
// "servfail.test" fails in the resolver, "timeout.test" times out. It counts
// lookups and the most in flight at once.
type countingResolve struct {
	n, inFlight, peak atomic.Int64
	gate              chan struct{} // when set, lookups wait on it
}

func (c *countingResolve) resolve(ctx context.Context, name string) (netip.Addr, error) {
	c.n.Add(1)
	cur := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for p := c.peak.Load(); cur > p && !c.peak.CompareAndSwap(p, cur); p = c.peak.Load() {
	}
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return netip.Addr{}, ctx.Err()
		}
	}
	switch name {
	case "bad.test":
		return netip.Addr{}, fmt.Errorf("%w: %s: no such host", target.ErrNotFound, name)
	case "servfail.test":
		return netip.Addr{}, fmt.Errorf("%w: %s: server misbehaving", target.ErrLookup, name)
	case "timeout.test":
		return netip.Addr{}, fmt.Errorf("%w: %s", target.ErrTimeout, name)
	}
	return netip.AddrFrom4([4]byte{10, 0, 0, 1}), nil
}

func hostnames(n int, bad int, badName string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("n%d.test", i)
		if i == bad {
			out[i] = badName
		}
	}
	return out
}

// TestUpdateStopsAtFirstFailure: a list whose second element fails costs a
// handful of lookups, not one per element (issue 12: 5,000 names, 10,000
// DNS attempts), and the failure kinds stay apart: a name that does not
// exist, a resolver that failed, a resolver that timed out.
func TestUpdateStopsAtFirstFailure(t *testing.T) {
	for _, tt := range []struct {
		bad  string
		want error
	}{
		{"bad.test", ErrUnresolvable},
		{"servfail.test", target.ErrLookup},
		{"timeout.test", target.ErrTimeout},
	} {
		t.Run(tt.bad, func(t *testing.T) {
			r := &countingResolve{}
			m, err := New(Options{Settings: testSettings(), Pinger: &fakePinger{}, Policy: testPolicy, Resolve: r.resolve})
			if err != nil {
				t.Fatal(err)
			}
			err = m.Update(t.Context(), hostnames(MaxLookupsPerRequest, 1, tt.bad), "append")
			var ie *IndexError
			if !errors.As(err, &ie) || ie.Index != 2 || !errors.Is(err, tt.want) {
				t.Fatalf("Update: %v, want element 2 failing with %v", err, tt.want)
			}
			if n := r.n.Load(); n > 2*MaxLookupsInFlight {
				t.Errorf("%d lookups for a list whose element 2 fails, want at most %d", n, 2*MaxLookupsInFlight)
			}
		})
	}
}

// TestLookupBounds: one request resolves at most MaxLookupsPerRequest
// hostnames (addresses are not limited), and concurrent requests together
// keep at most MaxLookupsInFlight lookups in flight.
func TestLookupBounds(t *testing.T) {
	r := &countingResolve{}
	m, err := New(Options{Settings: testSettings(), Pinger: &fakePinger{}, Policy: testPolicy, Resolve: r.resolve})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Update(t.Context(), hostnames(MaxLookupsPerRequest+1, -1, ""), "append")
	if !errors.Is(err, ErrTooManyLookups) || r.n.Load() != 0 {
		t.Fatalf("Update of %d hostnames: %v after %d lookups, want ErrTooManyLookups before any", MaxLookupsPerRequest+1, err, r.n.Load())
	}

	r.gate = make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			names := hostnames(200, -1, "")
			for j := range names {
				names[j] = fmt.Sprintf("r%d-%s", i, names[j])
			}
			if err := m.Update(context.Background(), names, "append"); err != nil {
				t.Error(err)
			}
		})
	}
	for r.inFlight.Load() < MaxLookupsInFlight {
		runtime.Gosched()
	}
	close(r.gate)
	wg.Wait()
	if p := r.peak.Load(); p > MaxLookupsInFlight {
		t.Errorf("%d lookups in flight at once across 8 requests, want at most %d", p, MaxLookupsInFlight)
	}
	if _, mut := m.IPList(); len(mut) != 8*200 {
		t.Errorf("%d names added, want %d", len(mut), 8*200)
	}
}

// TestMatchLookupBounds: /match resolves the names it is given (up to 256
// per request, on a read route). Those lookups share the server-wide bound
// of Update's: 40 concurrent Match calls on hostnames have at most
// MaxLookupsInFlight lookups in flight, the rest wait.
func TestMatchLookupBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inFlight, peak atomic.Int64
		gate := make(chan struct{})
		lookup := func(ctx context.Context, name string) ([]netip.Addr, error) {
			cur := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
			}
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 0, 1})}, nil
		}
		m, err := New(Options{Settings: testSettings(), Pinger: &fakePinger{}, Policy: testPolicy,
			Resolve: fakeResolve, LookupAll: lookup, Immutable: []string{"10.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		const calls = MaxLookupsInFlight + 8
		var wg sync.WaitGroup
		for i := range calls {
			wg.Go(func() {
				got, err := m.Match(t.Context(), fmt.Sprintf("m%d.test", i))
				if err != nil || len(got) != 1 || got[0] != "10.0.0.1" {
					t.Errorf("Match(m%d.test) = %v, %v; want [10.0.0.1]", i, got, err)
				}
			})
		}
		synctest.Wait() // every call is in a lookup or waiting for a slot
		if n := inFlight.Load(); n != MaxLookupsInFlight {
			t.Errorf("%d Match lookups in flight at once from %d calls, want %d (MaxLookupsInFlight)", n, calls, MaxLookupsInFlight)
		}
		close(gate)
		wg.Wait()
		if p := peak.Load(); p > MaxLookupsInFlight {
			t.Errorf("peak %d Match lookups in flight, want at most %d", p, MaxLookupsInFlight)
		}
	})
}
