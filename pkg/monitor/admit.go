package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/pingapi/pingapi/pkg/target"
)

// Admission of names to the list and of hosts to probing: the target
// policy, and the lookups that checking hostnames costs.

// checkResolvable admits name (canonical): an address through the policy,
// a hostname at the IPv4 address it resolves to.
func (m *Monitor) checkResolvable(ctx context.Context, name string) error {
	if a, err := netip.ParseAddr(name); err == nil {
		return m.policy.Check(a)
	}
	select {
	case m.lookups <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	a, err := m.resolve(ctx, name)
	<-m.lookups
	switch {
	case errors.Is(err, target.ErrTimeout) || errors.Is(err, target.ErrLookup):
		return err // the resolver, not the name: a 504 or 502, as /pingapi
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil || !a.Is4():
		return ErrUnresolvable
	}
	return deniedName(name, m.policy.Check(a))
}

// lookupAllBounded is lookupAll within the server-wide bound on lookups in
// flight (MaxLookupsInFlight) that Add and Update share: /match resolves
// the names a client sends, up to 256 a request.
func (m *Monitor) lookupAllBounded(ctx context.Context, name string) ([]netip.Addr, error) {
	select {
	case m.lookups <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-m.lookups }()
	return m.lookupAll(ctx, name)
}

// deniedName prefixes a denial of a hostname's address with the name, as
// target.Resolver.ResolveAllowed does: "h.example: 10.1.2.3 is a private
// address".
func deniedName(name string, err error) error {
	if err == nil {
		return nil
	}
	why := strings.TrimPrefix(err.Error(), target.ErrDenied.Error()+": ")
	return fmt.Errorf("%w: %s: %s", target.ErrDenied, name, why)
}

// admitHost applies the policy to the address h is probed at, once per
// address (the policy does not change while the monitor runs), and reports
// a denial: h is then never probed at that address. Caller holds m.mu.
func (m *Monitor) admitHost(h *host) {
	err := m.policy.Check(h.addr)
	h.denied = err != nil
	if err == nil {
		return
	}
	at := m.at[h.name]
	if at == "" && !m.list.imm[h.name] {
		at = "the mutable ip-list"
	}
	m.log.Warn("the target policy denies this host; it is not probed", "host", h.name, "at", at,
		"addr", h.addr.String(), "reason", strings.TrimPrefix(err.Error(), target.ErrDenied.Error()+": "))
}

// Check checks names as Update would (each must be an address or a
// hostname that resolves to an IPv4 address) without changing anything, and
// returns the *IndexError of the first bad one in order.
func (m *Monitor) Check(ctx context.Context, names []string) error {
	names, err := canonicalNames(names)
	if err != nil {
		return err
	}
	return m.checkAll(ctx, names)
}

// canonicalNames returns the canonical forms of names, or the *IndexError
// of the first that is not a name.
func canonicalNames(names []string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		c, err := CanonicalName(n)
		if err != nil {
			return nil, &IndexError{Index: i + 1, Name: n, Err: err}
		}
		out[i] = c
	}
	return out, nil
}

// Bounds of the lookups that admitting names costs (each hostname added
// must resolve to an IPv4 address, as in Ping903).
const (
	// MaxLookupsPerRequest bounds the hostnames one Update may resolve.
	// Addresses need no lookup and are not limited.
	MaxLookupsPerRequest = 1000
	// MaxLookupsInFlight bounds the lookups of every Add, Update and Match
	// of the server together.
	MaxLookupsInFlight = 32
	// lookupWorkers resolve the hostnames of one Update, at most
	// lookupWindow positions ahead of the first unresolved one.
	lookupWorkers = 8
	lookupWindow  = 2 * lookupWorkers
)

// checkAll checks names in order, resolving hostnames a few at a time, and
// returns the *IndexError of the first bad one in request order. It stops
// at the first failure: no name after it is resolved (beyond the few
// lookups already started).
func (m *Monitor) checkAll(ctx context.Context, names []string) error {
	errs := make([]error, len(names))
	stop := len(names) // the first failing index known so far
	var hosts []int    // indices of the hostnames before stop
	for i, name := range names {
		if _, err := netip.ParseAddr(name); err != nil {
			hosts = append(hosts, i)
			continue
		}
		if err := m.checkResolvable(ctx, name); err != nil {
			errs[i], stop = err, i
			break
		}
	}
	if len(hosts) > MaxLookupsPerRequest {
		return fmt.Errorf("%w: %d host names to resolve, at most %d per request (addresses are not limited); send the rest in further requests",
			ErrTooManyLookups, len(hosts), MaxLookupsPerRequest)
	}
	// Workers take hostnames in order, but never more than lookupWindow
	// ahead of the first one not yet resolved: a failure is then known
	// before the lookups after it run on, however the workers are
	// scheduled (the bound TestUpdateStopsAtFirstFailure checks).
	var (
		mu   sync.Mutex
		more = sync.NewCond(&mu)
		next int // position in hosts of the next hostname to resolve
		low  int // position in hosts of the first one not resolved yet
		done = make([]bool, len(hosts))
		wg   sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		for next-low >= lookupWindow && ctx.Err() == nil {
			more.Wait()
		}
		if next >= len(hosts) || hosts[next] > stop || ctx.Err() != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	finish := func(pos int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs[hosts[pos]] = err
			stop = min(stop, hosts[pos])
		}
		done[pos] = true
		for low < len(hosts) && done[low] {
			low++
		}
		more.Broadcast()
	}
	for range min(lookupWorkers, len(hosts)) {
		wg.Go(func() {
			for {
				pos, ok := take()
				if !ok {
					return
				}
				finish(pos, m.checkResolvable(ctx, names[hosts[pos]]))
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, err := range errs {
		if err != nil {
			return &IndexError{Index: i + 1, Name: names[i], Err: err}
		}
	}
	return nil
}
