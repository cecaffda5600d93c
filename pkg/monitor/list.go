package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"
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
	m.counts = m.hostCounts()
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
