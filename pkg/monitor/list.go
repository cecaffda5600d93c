package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pingapi/pingapi/pkg/target"
)

// Errors of the list mutations; match them with errors.Is.
var (
	ErrExists       = errors.New("host is already monitored")
	ErrUnresolvable = errors.New("host name does not resolve to an IPv4 address")
	ErrNotFound     = errors.New("host is not in the mutable ip-list")
	ErrImmutable    = errors.New("host is in the immutable ip-list")
	ErrInvalid      = errors.New("invalid host name")
	ErrBadMode      = errors.New(`mode must be "replace" or "append"`)
	// ErrTooManyLookups: one request names more hostnames than
	// MaxLookupsPerRequest.
	ErrTooManyLookups = errors.New("too many host names to resolve in one request")
	// ErrTooManyHosts: the change would take the list past Options.MaxHosts.
	ErrTooManyHosts = errors.New("the monitor holds no more hosts")
)

// IndexError is the failure of one element of a batch, with its 1-based
// position in the request.
type IndexError struct {
	Index int // 1-based
	Name  string
	Err   error
}

func (e *IndexError) Error() string {
	return fmt.Sprintf("element %d (%q): %v", e.Index, e.Name, e.Err)
}
func (e *IndexError) Unwrap() error { return e.Err }

// lists is the configured ip-list: what the next round will probe. A
// removal leaves "" in mutable (a tombstone, counted in dead) so that it
// costs O(1); mutable is compacted once tombstones are half of it.
type lists struct {
	immutable []string
	mutable   []string // in list order; "" is a removed name
	imm       map[string]bool
	mut       map[string]int // index in mutable
	dead      int            // "" entries in mutable
}

func newLists() lists { return lists{imm: map[string]bool{}, mut: map[string]int{}} }

func (l *lists) has(name string) bool { return l.imm[name] || l.isMutable(name) }

func (l *lists) isMutable(name string) bool {
	_, ok := l.mut[name]
	return ok
}

func (l *lists) addImmutable(name string) {
	if l.imm[name] {
		return
	}
	l.imm[name] = true
	l.immutable = append(l.immutable, name)
}

func (l *lists) addMutable(name string) bool {
	if l.has(name) {
		return false
	}
	l.mut[name] = len(l.mutable)
	l.mutable = append(l.mutable, name)
	return true
}

// removeMutable removes a name of the mutable list, in O(1) amortised.
func (l *lists) removeMutable(name string) {
	i, ok := l.mut[name]
	if !ok {
		return
	}
	l.mutable[i] = ""
	delete(l.mut, name)
	l.dead++
	if l.dead >= 1024 && 2*l.dead >= len(l.mutable) {
		live := l.mutable[:0]
		for _, n := range l.mutable {
			if n != "" {
				l.mut[n] = len(live)
				live = append(live, n)
			}
		}
		clear(l.mutable[len(live):])
		l.mutable, l.dead = live, 0
	}
}

func (l *lists) mutableLen() int { return len(l.mutable) - l.dead }

// mutableNames returns a copy of the mutable list without tombstones.
func (l *lists) mutableNames() []string {
	out := make([]string, 0, l.mutableLen())
	for _, n := range l.mutable {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// IPList returns the configured lists, including changes queued for the
// next round.
func (m *Monitor) IPList() (immutable, mutable []string) {
	m.lmu.Lock()
	defer m.lmu.Unlock()
	return slices.Clone(m.list.immutable), m.list.mutableNames()
}

// ListLen returns the numbers of hosts configured, immutable and mutable,
// including changes queued for the next round.
func (m *Monitor) ListLen() (immutable, mutable int) {
	m.lmu.Lock()
	defer m.lmu.Unlock()
	return len(m.list.immutable), m.list.mutableLen()
}

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

// Add queues name for the mutable list (Ping903's PUT /config/ip-list/IP):
// name is taken in its canonical form (CanonicalName). ErrExists when it is
// already listed, ErrUnresolvable when a hostname has
// no IPv4 address, ErrInvalid when it is neither. The list is saved before
// Add returns; probing starts at the next round.
func (m *Monitor) Add(ctx context.Context, name string) error {
	name, err := CanonicalName(name)
	if err != nil {
		return err
	}
	if err := m.checkResolvable(ctx, name); err != nil {
		return err
	}
	m.lmu.Lock()
	defer m.lmu.Unlock()
	if m.list.has(name) {
		return ErrExists
	}
	if len(m.list.immutable)+m.list.mutableLen() >= m.maxHosts {
		return m.tooMany()
	}
	if err := m.storeChange(func(s *Store) error { return s.Add([]string{name}) }); err != nil {
		return err
	}
	m.list.addMutable(name)
	m.pending = true
	m.compactStore()
	return nil
}

// Delete removes name (in its canonical form) from the mutable list:
// ErrImmutable or ErrNotFound when it is not there, ErrInvalid when it is
// not a name. Saved before Delete returns; effective at the next
// round.
func (m *Monitor) Delete(name string) error {
	name, err := CanonicalName(name)
	if err != nil {
		return err
	}
	m.lmu.Lock()
	defer m.lmu.Unlock()
	if !m.list.isMutable(name) {
		if m.list.imm[name] {
			return ErrImmutable
		}
		return ErrNotFound
	}
	if err := m.storeChange(func(s *Store) error { return s.Remove(name) }); err != nil {
		return err
	}
	m.list.removeMutable(name)
	m.pending = true
	m.compactStore()
	return nil
}

// Update is Ping903's POST /config/ip-list: mode "replace" makes names the
// whole mutable list, "append" (or "") adds them. Names already listed (or
// given twice) are skipped. Every element is checked first; the first bad
// one fails the whole request with an *IndexError and nothing changes.
// Names are taken in their canonical form.
func (m *Monitor) Update(ctx context.Context, names []string, mode string) error {
	if mode != "replace" && mode != "append" && mode != "" {
		return ErrBadMode
	}
	names, err := canonicalNames(names)
	if err != nil {
		return err
	}
	if err := m.checkAll(ctx, names); err != nil {
		return err
	}
	m.lmu.Lock()
	defer m.lmu.Unlock()
	if mode == "replace" {
		next := newLists()
		for _, n := range m.list.immutable {
			next.addImmutable(n)
		}
		for _, n := range names {
			next.addMutable(n)
		}
		if n := len(next.immutable) + next.mutableLen(); n > m.maxHosts {
			return fmt.Errorf("the list would hold %d hosts: %w", n, m.tooMany())
		}
		if err := m.storeChange(func(s *Store) error { return s.Save(next.mutable) }); err != nil {
			return err
		}
		m.list = next
		m.pending = true
		return nil
	}
	// Append: O(len(names)), whatever the size of the list.
	added := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !m.list.has(n) && !seen[n] {
			seen[n] = true
			added = append(added, n)
		}
	}
	if n := len(m.list.immutable) + m.list.mutableLen() + len(added); n > m.maxHosts {
		return fmt.Errorf("the list would hold %d hosts: %w", n, m.tooMany())
	}
	if len(added) == 0 {
		return nil
	}
	if err := m.storeChange(func(s *Store) error { return s.Add(added) }); err != nil {
		return err
	}
	for _, n := range added {
		m.list.addMutable(n)
	}
	m.pending = true
	m.compactStore()
	return nil
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
	// MaxLookupsInFlight bounds the lookups of every Add and Update of the
	// server together.
	MaxLookupsInFlight = 32
	// lookupWorkers resolve the hostnames of one Update.
	lookupWorkers = 8
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
	var (
		mu   sync.Mutex
		next int // index in hosts of the next hostname to resolve
		wg   sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(hosts) || hosts[next] > stop || ctx.Err() != nil {
			return 0, false
		}
		next++
		return hosts[next-1], true
	}
	for range min(lookupWorkers, len(hosts)) {
		wg.Go(func() {
			for {
				i, ok := take()
				if !ok {
					return
				}
				if err := m.checkResolvable(ctx, names[i]); err != nil {
					mu.Lock()
					errs[i] = err
					stop = min(stop, i)
					mu.Unlock()
				}
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

// storeChange persists a change of the mutable list before it is made in
// memory (and acknowledged). Caller holds lmu.
func (m *Monitor) storeChange(change func(*Store) error) error {
	if m.store == nil {
		return nil
	}
	if err := change(m.store); err != nil {
		return fmt.Errorf("saving the mutable ip-list: %w", err)
	}
	return nil
}

// compactStore folds the store's journal into its list once the journal is
// longer than the list, so that a change costs O(1) amortised. A failure
// loses nothing (the journal still holds every change) and is retried at
// the next change. Caller holds lmu.
func (m *Monitor) compactStore() {
	if m.store == nil || !m.store.NeedsCompaction(m.list.mutableLen()) {
		return
	}
	if err := m.store.Save(m.list.mutableNames()); err != nil {
		m.log.Warn("cannot compact the journal of the mutable ip-list; it keeps every change", "err", err)
	}
}

// apply makes the probed table match the configured list: kept hosts keep
// their statistics, new ones start in StatusInit, removed ones are marked so
// that an in-flight probe discards its result. Called at start and by the
// scheduler at the start of a round.
func (m *Monitor) apply() {
	m.lmu.Lock()
	names := make([]string, 0, len(m.list.immutable)+m.list.mutableLen())
	names = append(names, m.list.immutable...)
	for _, n := range m.list.mutable {
		if n != "" {
			names = append(names, n)
		}
	}
	imm := m.list.imm
	m.pending = false
	m.lmu.Unlock()

	m.mu.RLock()
	old := m.byName
	m.mu.RUnlock()
	byName := make(map[string]*host, len(names))
	order := make([]*host, 0, len(names))
	for _, n := range names {
		h := old[n]
		if h == nil {
			h = &host{name: n, offset: spread(n, m.set.ProbeInterval)}
			if m.perHost {
				h.rtt = &hostRTT{}
			}
			if a, err := netip.ParseAddr(n); err == nil {
				h.addr = a.Unmap()
			}
		}
		if h.addr.IsValid() && old[n] == nil {
			m.admitHost(h)
		}
		byName[n] = h
		order = append(order, h)
	}
	sched := slices.Clone(order)
	sort.SliceStable(sched, func(i, j int) bool { return sched[i].offset < sched[j].offset })

	m.mu.Lock()
	defer m.mu.Unlock()
	for n, h := range old {
		if byName[n] == nil {
			h.removed = true
		}
	}
	for _, h := range order {
		h.immutable = imm[h.name]
	}
	m.byName, m.order, m.sched = byName, order, sched
	m.limit.Store(int64(m.inFlightLimit(len(order))))
}

// inFlightLimit is the bound on concurrent probes for n hosts.
func (m *Monitor) inFlightLimit(n int) int {
	if m.maxFixed > 0 {
		return m.maxFixed
	}
	busy := time.Duration(m.set.PingCount-1)*m.set.PingInterval + m.set.Timeout()
	return 2*int(int64(n)*int64(busy)/int64(m.set.ProbeInterval)) + 1024
}

// hasPending reports whether list changes wait for the next round.
func (m *Monitor) hasPending() bool {
	m.lmu.Lock()
	defer m.lmu.Unlock()
	return m.pending
}
