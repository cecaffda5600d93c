package tcpecho

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Defaults of the zero Options fields.
const (
	DefaultInterval        = 3 * time.Second // the seed's "every three seconds"
	DefaultTimeout         = 2 * time.Second // an echo later than this is lost
	DefaultSilentIntervals = 5               // K: intervals without an echo before disconnecting
	DefaultMaxClients      = 10000           // connected clients, whole server
	DefaultMaxPerAddr      = 64              // connected clients per source address (a NAT hides many)
	DefaultWindow          = time.Minute     // aggregation window of the archive records
	DefaultMaxStray        = 16              // stray bytes tolerated per connection
	DefaultHelloTimeout    = 10 * time.Second
	DefaultGoneRetention   = 256 // disconnected clients still listed
	// JitterFraction is the spread of each client's send time around its
	// interval (± this share), so that clients connected together drift
	// apart and thousands of them never tick at once.
	JitterFraction = 0.05
	// ringSize probes are remembered per client (a power of two, below 256
	// so that a byte value names at most one of them, and above the 9 that
	// a timeout of 8 intervals can leave in flight).
	ringSize = 16
)

// Checker decides whether a client address may be measured; target.Policy
// implements it. Every prober of pingapi asks the one policy.
type Checker interface {
	Check(a netip.Addr) error
}

// Authenticator checks the credential an agent presents in its hello line
// on the TLS listener. scheme is "Bearer" (a JWT) or "Key" (an archive
// key). It returns the authenticated subject, or an error whose text may
// be logged but is not sent to the client.
type Authenticator interface {
	Authenticate(ctx context.Context, scheme, credential string) (subject string, err error)
}

// Sink receives each client's aggregated windows (the archive feed). It is
// called from one goroutine of the Server, in order per client; a slow Sink
// delays only itself: windows queue in a bounded buffer and are dropped,
// counted and logged when it is full.
type Sink interface {
	Window(ctx context.Context, w Window)
}

// Options configure a Server. Zero fields take the defaults above.
type Options struct {
	Interval        time.Duration // between probes to one client
	Timeout         time.Duration // per-probe deadline; at most 8 intervals
	SilentIntervals int           // K: a client silent this many intervals is disconnected
	MaxClients      int           // global connection limit
	MaxPerAddr      int           // per source address connection limit
	MaxStray        int           // stray bytes (garbage, flood, duplicates) before disconnecting
	Window          time.Duration // archive aggregation window; windows align to multiples of it
	HelloTimeout    time.Duration // TLS handshake plus hello line

	// Policy is asked about every client address before anything else; a
	// denied client is closed at once. Required: pass target.Policy.
	Policy Checker
	// Auth checks agents on the TLS listener; required for ServeTLS.
	Auth Authenticator
	// Sink, if not nil, receives every client's windows.
	Sink Sink

	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now; must carry a monotonic reading
	// Rand returns a uniform float in [0, 1) for the send jitter; nil: a
	// per-Server generator.
	Rand func() float64
}

func (o Options) withDefaults() (Options, error) {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Timeout == 0 {
		o.Timeout = min(DefaultTimeout, o.Interval)
	}
	if o.SilentIntervals == 0 {
		o.SilentIntervals = DefaultSilentIntervals
	}
	if o.MaxClients == 0 {
		o.MaxClients = DefaultMaxClients
	}
	if o.MaxPerAddr == 0 {
		o.MaxPerAddr = DefaultMaxPerAddr
	}
	if o.MaxStray == 0 {
		o.MaxStray = DefaultMaxStray
	}
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.HelloTimeout == 0 {
		o.HelloTimeout = DefaultHelloTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var errs []error
	if o.Interval < time.Millisecond {
		errs = append(errs, fmt.Errorf("interval %v: must be at least 1ms", o.Interval))
	}
	if o.Timeout <= 0 || o.Timeout > 8*o.Interval {
		errs = append(errs, fmt.Errorf("timeout %v: must be positive and at most 8 intervals", o.Timeout))
	}
	if o.SilentIntervals < 1 || o.MaxClients < 1 || o.MaxPerAddr < 1 || o.MaxStray < 0 {
		errs = append(errs, errors.New("silent intervals, client limits must be positive"))
	}
	if o.Window < o.Interval || o.Window < o.Timeout {
		errs = append(errs, fmt.Errorf("window %v: must be at least the interval and the timeout", o.Window))
	}
	if o.Policy == nil {
		errs = append(errs, errors.New("no target policy"))
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("tcpecho: %w", errors.Join(errs...))
	}
	return o, nil
}
