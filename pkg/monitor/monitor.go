// Package monitor probes a large list of hosts continuously on the shared
// engine and keeps per-host statistics (Ping903's job): the host table, the
// hash-spread scheduler, the Ping903 configuration parser and the persisted
// mutable ip-list.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/stats"
	"github.com/pingapi/pingapi/pkg/target"
	"github.com/pingapi/pingapi/pkg/wire"
)

// Pinger runs one measurement; *probe.Engine implements it. It must be safe
// for concurrent use.
type Pinger interface {
	Ping(ctx context.Context, req probe.Request, onPacket func(probe.Packet)) (probe.Result, error)
}

// Starter is a Pinger that can also begin a measurement and return at
// once, calling done when it ends (*probe.Engine: see its Start). The
// monitor then needs no goroutine per probe in flight; done must be quick.
type Starter interface {
	Start(ctx context.Context, req probe.Request, done func(probe.Result, error))
}

var (
	_ Pinger  = (*probe.Engine)(nil)
	_ Starter = (*probe.Engine)(nil)
)

// Options configure a Monitor. Zero fields take the documented defaults.
type Options struct {
	Settings  Settings // zero: DefaultSettings()
	Immutable []string // the immutable ip-list (from the configuration)
	Pinger    Pinger   // required
	// Store persists the mutable ip-list; nil keeps it in memory only.
	Store *Store
	// Resolve returns the address to probe for a hostname (first IPv4
	// address). Default: pkg/target's resolver, IPv4, 5 s timeout.
	Resolve func(ctx context.Context, name string) (netip.Addr, error)
	// LookupAll returns every IPv4 address of a hostname, for Match.
	// Default: net.DefaultResolver.
	LookupAll func(ctx context.Context, name string) ([]netip.Addr, error)
	// Policy admits the addresses the monitor may probe: every name added to
	// the mutable list (a hostname at the address it resolves to), and the
	// address of every host, immutable ones included, before its probe.
	// nil: target.Policy{}, the safe default. serve gives the one policy it
	// also gives /pingapi and the engine (TARGET_ALLOW, TARGET_DENY, ...).
	Policy target.Checker
	// MaxHosts bounds the hosts monitored, immutable and mutable together
	// (MONITOR_MAX_HOSTS): an Add or Update past it fails with
	// ErrTooManyHosts, and so does New for a longer immutable list. 0:
	// DefaultMaxHosts; serve sizes it to the machine (MaxHostsFor).
	MaxHosts int
	// ImmutableAt, if set, says where each entry of Immutable comes from
	// ("FILE:LINE"), to report a host the policy denies.
	ImmutableAt []string
	// MaxInFlight bounds the probes running at once (each is a measurement
	// in the engine, and with a plain Pinger one goroutine blocked in Ping). 0: adaptive, twice the number a healthy
	// engine has in flight (hosts × probe duration / probe-interval) plus
	// 1,024, recomputed when the list changes. A host due while the bound is
	// reached skips that round (counted in Stats.Saturated): when the engine
	// cannot keep up, memory stays bounded and data get older instead.
	MaxInFlight int
	// PerHostRTT keeps, for every host, a histogram of every RTT received
	// and its request and reply counts since start (about 1 KB per host),
	// for per-host metrics (see HostRTTs). Off by default: at 100,000
	// hosts that is 100 MB and millions of Prometheus series.
	PerHostRTT bool
	Now        func() time.Time // default time.Now
	Logger     *slog.Logger     // default: discard
	Version    string           // reported by /id
	// Recorder, if not nil, receives every probe that ran (the archive).
	Recorder Recorder
}

// Recorder receives the outcome of every probe that ran: the host's name,
// the request and the result or error. Record is called on the engine's
// loop, so it must be quick and never block.
type Recorder interface {
	Record(target string, req probe.Request, res probe.Result, err error)
}

// Monitor is the running monitor: the host table, the list of monitored
// names and the scheduler. All its methods are safe for concurrent use.
type Monitor struct {
	set       Settings
	pinger    Pinger
	policy    target.Checker
	at        map[string]string // where each immutable name comes from
	lookups   chan struct{}     // semaphore: MaxLookupsInFlight
	maxHosts  int
	store     *Store
	resolve   func(ctx context.Context, name string) (netip.Addr, error)
	lookupAll func(ctx context.Context, name string) ([]netip.Addr, error)
	now       func() time.Time
	log       *slog.Logger
	version   string
	rec       Recorder     // Options.Recorder, may be nil
	maxFixed  int          // Options.MaxInFlight
	perHost   bool         // Options.PerHostRTT
	inFlight  atomic.Int64 // probes running
	limit     atomic.Int64 // current bound on inFlight
	started   time.Time

	// mu guards the probed table: order, sched, byName and every host.
	mu     sync.RWMutex
	order  []*host // list order: immutable, then mutable
	sched  []*host // by offset; owned by the scheduler loop, replaced under mu
	byName map[string]*host
	stats  Stats
	counts HostCounts // the hosts of order by status, guarded by mu (see recount)

	// lmu serialises changes of the configured list and their saving.
	lmu     sync.Mutex
	list    lists
	pending bool // the configured list differs from the probed table
}

// Stats count scheduler events since start, plus a few gauges read when
// Stats is called. /metrics exports them (api's monitor collector).
type Stats struct {
	Probes      uint64 // probes finished
	Overruns    uint64 // host due while its previous probe still ran: skipped
	Saturated   uint64 // host due while MaxInFlight probes ran: skipped
	LateRounds  uint64 // whole rounds skipped because the loop fell behind
	Unreachable uint64 // probes that could not run
	// ResolveFailures counts probes of a hostname that did not resolve to
	// an IPv4 address (included in Unreachable).
	ResolveFailures uint64
	// ProbeDuration counts the wall-clock durations of the probes that
	// ran (stats' log-scale buckets); ProbeDurationSum is their sum.
	ProbeDuration    stats.Histogram
	ProbeDurationSum time.Duration

	Hosts         HostCounts // hosts of the probed table by status, now
	InFlight      int        // probes running now
	InFlightLimit int        // current bound on InFlight (Options.MaxInFlight)
}

// New validates opts, loads the mutable list from opts.Store (after the
// immutable list: a name in both stays immutable) and returns a Monitor
// whose scheduler is not yet running (see Run).
func New(opts Options) (*Monitor, error) {
	if opts.Pinger == nil {
		return nil, errors.New("monitor: no pinger")
	}
	if opts.Settings == (Settings{}) {
		opts.Settings = DefaultSettings()
	}
	if err := opts.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	m := &Monitor{
		set: opts.Settings, pinger: opts.Pinger, store: opts.Store,
		resolve: opts.Resolve, lookupAll: opts.LookupAll, policy: opts.Policy,
		now: opts.Now, log: opts.Logger, version: opts.Version, rec: opts.Recorder,
		perHost: opts.PerHostRTT,
		byName:  map[string]*host{},
		lookups: make(chan struct{}, MaxLookupsInFlight),
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.resolve == nil {
		m.resolve = defaultResolve
	}
	if m.policy == nil {
		m.policy = target.Policy{}
	}
	m.maxHosts = opts.MaxHosts
	if m.maxHosts <= 0 {
		m.maxHosts = DefaultMaxHosts
	}
	if m.lookupAll == nil {
		m.lookupAll = defaultLookupAll
	}
	m.maxFixed = opts.MaxInFlight
	m.list = newLists()
	m.at = make(map[string]string, len(opts.ImmutableAt))
	for i, name := range opts.Immutable {
		name, err := CanonicalName(name)
		if err != nil {
			return nil, fmt.Errorf("monitor: immutable ip-list: %w", err)
		}
		m.list.addImmutable(name)
		if i < len(opts.ImmutableAt) {
			m.at[name] = opts.ImmutableAt[i]
		}
	}
	if n := len(m.list.immutable); n > m.maxHosts {
		return nil, fmt.Errorf("monitor: the immutable ip-list has %d hosts: %w", n, m.tooMany())
	}
	if m.store != nil {
		names, err := m.store.Load()
		if err != nil {
			return nil, fmt.Errorf("monitor: %w", err)
		}
		for _, name := range names {
			if !m.list.addMutable(name) {
				m.log.Warn("mutable ip-list entry already monitored, ignored", "name", name)
			}
		}
	}
	m.apply()
	return m, nil
}

// DefaultMaxHosts is Options.MaxHosts when zero.
const DefaultMaxHosts = 200000

// MaxHostsFor is MONITOR_MAX_HOSTS sized to a machine of mem bytes of RAM:
// one host per 8 KiB (a host costs about 1.2 KB in the table, plus its
// probes and the JSON of GET /host), at least 100,000 (the documented
// scale), at most 2,000,000.
func MaxHostsFor(mem uint64) int {
	return int(min(max(mem/(8<<10), 100000), 2000000))
}

// MaxHosts returns the bound on the hosts monitored (Options.MaxHosts).
func (m *Monitor) MaxHosts() int { return m.maxHosts }

// tooMany is the ErrTooManyHosts of this monitor.
func (m *Monitor) tooMany() error {
	return fmt.Errorf("%w: at most %d (MONITOR_MAX_HOSTS)", ErrTooManyHosts, m.maxHosts)
}

// Settings returns the probing settings.
func (m *Monitor) Settings() Settings { return m.set }

// ID returns the identity of the running instance.
func (m *Monitor) ID() wire.ID {
	return wire.ID{Package: "pingapi", Version: m.version, PID: os.Getpid()}
}

// Stats returns the scheduler counters and the current gauges (host
// counts kept as the hosts' states change, see recount).
func (m *Monitor) Stats() Stats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := m.stats
	s.Hosts = m.counts
	s.InFlight, s.InFlightLimit = int(m.inFlight.Load()), int(m.limit.Load())
	return s
}

// Len returns the number of hosts in the probed table.
func (m *Monitor) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.order)
}

// Lookup returns the record of the host monitored under name (in its
// canonical form, see CanonicalName).
func (m *Monitor) Lookup(name string) (wire.Record, bool) {
	name, err := CanonicalName(name)
	if err != nil {
		return wire.Record{}, false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	h, ok := m.byName[name]
	if !ok {
		return wire.Record{}, false
	}
	return h.record(), true
}

// Records calls fn with the records of the probed table in list order,
// starting at offset, at most limit of them (limit <= 0: all), in chunks
// copied under the lock so that a slow consumer never blocks probing. The
// hosts are those of the table when Records starts: a round that applies
// list changes meanwhile neither repeats nor skips any. It stops at the
// first error of fn.
func (m *Monitor) Records(offset, limit int, fn func([]wire.Record) error) error {
	const chunk = 512
	if offset < 0 {
		offset = 0
	}
	m.mu.RLock()
	order := m.order // apply replaces the slice, never changes it in place
	m.mu.RUnlock()
	buf := make([]wire.Record, 0, chunk)
	for sent := 0; limit <= 0 || sent < limit; {
		n := chunk
		if limit > 0 {
			n = min(n, limit-sent)
		}
		buf = buf[:0]
		m.mu.RLock()
		for i := offset; i < len(order) && len(buf) < n; i++ {
			buf = append(buf, order[i].record())
		}
		m.mu.RUnlock()
		if len(buf) == 0 {
			return nil
		}
		if err := fn(buf); err != nil {
			return err
		}
		offset += len(buf)
		sent += len(buf)
	}
	return nil
}

// Match returns the monitored names whose address is one of the IPv4
// addresses of name (an address literal or a hostname, resolved now), plus
// a host monitored under exactly name. Hostnames in the table that have not
// been resolved yet are matched by name only. When name does not resolve,
// the error wraps target.ErrNotFound and the names are still returned: a
// host monitored under exactly name is found whatever its DNS does.
func (m *Monitor) Match(ctx context.Context, name string) ([]string, error) {
	var addrs []netip.Addr
	var lookupErr error
	name, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	if a, err := netip.ParseAddr(name); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = m.lookupAllBounded(ctx, name); err != nil {
		addrs, lookupErr = nil, fmt.Errorf("%s: %w", name, target.ErrNotFound)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []string{}
	for _, h := range m.order {
		if h.name == name {
			out = append(out, h.name)
			continue
		}
		for _, a := range addrs {
			if h.addr.IsValid() && h.addr == a {
				out = append(out, h.name)
				break
			}
		}
	}
	return out, lookupErr
}

func defaultResolve(ctx context.Context, name string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		return a.Unmap(), nil
	}
	t, err := target.Parse(name)
	if err != nil {
		return netip.Addr{}, err
	}
	r := &target.Resolver{Timeout: 5 * time.Second}
	return r.Resolve(ctx, t, 4)
}

func defaultLookupAll(ctx context.Context, name string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", name)
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, err
}
