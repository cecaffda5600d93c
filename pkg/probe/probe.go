package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// SocketMode chooses how the engine opens its ICMP sockets.
type SocketMode string

// Socket modes.
const (
	ModeAuto  SocketMode = "auto"  // unprivileged datagram socket when allowed, raw otherwise
	ModeDgram SocketMode = "dgram" // SOCK_DGRAM/IPPROTO_ICMP (net.ipv4.ping_group_range)
	ModeRaw   SocketMode = "raw"   // SOCK_RAW (CAP_NET_RAW)
)

// Options configure an Engine.
type Options struct {
	Mode SocketMode // default ModeAuto
	// Rate caps the packets per second the whole engine sends, across every
	// measurement. 0 means the default (see DefaultRate).
	Rate   float64
	Logger *slog.Logger // nil: discard
	// RecvBuffer is the receive buffer of each socket in bytes; 0 means
	// DefaultRecvBuffer. As root the engine uses SO_RCVBUFFORCE, otherwise
	// SO_RCVBUF (capped by net.core.rmem_max).
	RecvBuffer int
	// Admit, if set, is asked about the target of every measurement (Ping
	// and Start) before anything is sent; an error refuses the measurement
	// and is returned as is. serve gives pkg/target's policy, so the
	// operator's allow/deny rules hold for every prober on the engine
	// whatever asked for the measurement.
	Admit func(netip.Addr) error
}

// Defaults of Options and Request.
const (
	DefaultRate       = 50000       // packets per second, whole engine
	DefaultRecvBuffer = 8 << 20     // bytes per socket
	DefaultCount      = 1           // echo requests per measurement
	MaxCount          = 1 << 20     // a measurement's state grows with its Count
	DefaultInterval   = time.Second // between two sends of one measurement
	MinInterval       = 10 * time.Millisecond
	DefaultTimeout    = 2 * time.Second // per-packet deadline after its send
	DefaultSize       = 56              // ICMP payload bytes, as ping(8)
	MinSize           = tokenLen        // the payload carries an 8-byte token
	MaxSize           = 65000
)

// Request describes one measurement: Count echo requests to Target, one every
// Interval. Zero fields take the documented defaults.
type Request struct {
	Target   netip.Addr
	Count    int           // number of echo requests; default 1, maximum MaxCount
	Interval time.Duration // between sends; default 1s, minimum 10ms
	Timeout  time.Duration // per-packet deadline after its send; default DefaultTimeout (2s)
	Size     int           // ICMP payload bytes; default 56, minimum 8, maximum 65000
	TTL      int           // IP TTL / hop limit; 0 = system default
	TOS      int           // IPv4 TOS byte / IPv6 traffic class; 0 = default
	Source   netip.Addr    // optional source address
}

// Packet is the fate of one echo request.
type Packet struct {
	Seq        int           // 0-based sequence number within the measurement
	SentAt     time.Time     // when the request left: kernel transmit stamp, else time just before sendmsg
	Received   bool          // a matching reply arrived before the deadline
	RTT        time.Duration // kernel receive timestamp minus SentAt; 0 unless Received
	TTL        int           // TTL / hop limit of the reply; 0 unless Received
	Late       bool          // a matching reply arrived after the deadline (counted lost)
	Duplicates int           // further replies to the same request
	SendError  bool          // the kernel refused the request (counted sent and lost)
}

// Result is the outcome of a measurement.
type Result struct {
	Target     netip.Addr
	Sent       int
	Received   int
	Duplicates int
	Late       int
	SendErrors int      // requests the kernel refused (included in Sent)
	Packets    []Packet // indexed by Seq, in sequence order
	Started    time.Time
	Finished   time.Time
}

// ErrNoSocket means neither an unprivileged datagram ICMP socket nor a raw
// socket could be opened for a family.
var ErrNoSocket = errors.New("probe: cannot open an ICMP socket")

// ErrClosed is returned by Ping when the engine is closed during or before
// the measurement.
var ErrClosed = errors.New("probe: engine closed")

// Engine sends echo requests and matches replies. It is safe for concurrent
// use by any number of measurements.
//
// Late replies are recognised while their measurement is still running (and
// at most one Timeout after their deadline); once Ping has returned, the
// measurement's state is gone and further replies are ignored.
type Engine struct {
	opts  Options
	log   *slog.Logger
	conns [2]packetConn // [0] IPv4, [1] IPv6; nil when unavailable
	base  time.Time     // origin of the monotonic clock mono()

	mu      sync.Mutex
	table   flightTable // in-flight requests, guarded by mu
	inTable [2]int      // entries of table per family, guarded by mu
	sched   scheduler   // guarded by mu
	seqNext [2]uint16   // next wire sequence per family, guarded by mu
	closed  bool        // guarded by mu
	cnt     counters    // guarded by mu

	// sleepUntil is the mono time the loop sleeps until (0 while it is
	// awake and will look at the scheduler before sleeping), guarded by mu:
	// a measurement due before it must kick the loop.
	sleepUntil int64

	completed []*meas                       // Start's measurements that completed, guarded by mu
	emitting  []*meas                       // StartEach's with requests to hand out, guarded by mu
	doneBuf   []asyncDone                   // loop goroutine only
	pktBuf    []asyncPacket                 // loop goroutine only
	watches   map[context.Context]*ctxWatch // contexts of Start's measurements, guarded by mu

	rd   [2]readBackoff // loop goroutine only
	wake chan struct{}  // kicks the loop; capacity 1
	done chan struct{}  // closed by Close
	wg   sync.WaitGroup
}

// New opens the engine's sockets (IPv4 and, where the host has it, IPv6) and
// starts the engine's loop. It fails, wrapping ErrNoSocket, when no IPv4 socket
// can be opened in the requested mode; a missing IPv6 socket is logged and
// Ping to IPv6 targets then fails.
func New(opts Options) (*Engine, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Mode == "" {
		opts.Mode = ModeAuto
	}
	if opts.RecvBuffer <= 0 {
		opts.RecvBuffer = DefaultRecvBuffer
	}
	c4, err := openConn(4, opts.Mode, opts.RecvBuffer)
	if err != nil {
		return nil, err
	}
	c6, err6 := openConn(6, opts.Mode, opts.RecvBuffer)
	if err6 != nil {
		log.Warn("probe: no IPv6 socket", "err", err6)
		c6 = nil
	}
	log.Info("probe: sockets open", "v4", c4.describe(), "v6", describe(c6))
	return newEngine(opts, log, c4, c6), nil
}

func describe(c packetConn) string {
	if c == nil {
		return "none"
	}
	return c.describe()
}

// newEngine starts an engine over the given connections (either may be nil).
func newEngine(opts Options, log *slog.Logger, c4, c6 packetConn) *Engine {
	if opts.Rate <= 0 {
		opts.Rate = DefaultRate
	}
	e := &Engine{
		opts:  opts,
		log:   log,
		base:  time.Now(),
		table: newFlightTable(),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	e.conns[0], e.conns[1] = c4, c6
	e.seqNext[0], e.seqNext[1] = uint16(rand.Uint32()), uint16(rand.Uint32())
	e.sched.init(opts.Rate)
	e.wg.Add(1)
	go e.loop()
	return e
}

// mono is the engine's monotonic clock in nanoseconds.
func (e *Engine) mono() int64 { return int64(time.Since(e.base)) }

// Close stops the engine's loop and then closes the sockets. Measurements
// in flight end with ErrClosed. Close is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.done)
	e.mu.Unlock()
	// The sockets are closed only once the loop has stopped, so that it
	// never reads a descriptor number that a new file may already reuse.
	e.wg.Wait()
	e.closeAsync()
	var errs []error
	for _, c := range e.conns {
		if c != nil {
			errs = append(errs, c.close())
		}
	}
	return errors.Join(errs...)
}

// Ready reports whether the engine has at least one open socket.
func (e *Engine) Ready() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return !e.closed && (e.conns[0] != nil || e.conns[1] != nil)
}

// HasIPv6 reports whether the engine could open an IPv6 socket.
func (e *Engine) HasIPv6() bool { return e.conns[1] != nil }

// normalize applies the defaults of Request and validates it in place.
func normalize(req *Request) error {
	req.Target = req.Target.Unmap()
	req.Source = req.Source.Unmap()
	switch {
	case !req.Target.IsValid():
		return errors.New("probe: invalid target address")
	case req.Count < 0 || req.Count > MaxCount:
		return fmt.Errorf("probe: count %d out of range 1..%d", req.Count, MaxCount)
	case req.Interval < 0 || req.Timeout < 0:
		return errors.New("probe: negative interval or timeout")
	case req.TTL < 0 || req.TTL > 255:
		return fmt.Errorf("probe: ttl %d out of range 1..255", req.TTL)
	case req.TOS < 0 || req.TOS > 255:
		return fmt.Errorf("probe: tos %d out of range 0..255", req.TOS)
	case req.Source.IsValid() && req.Source.Is4() != req.Target.Is4():
		return errors.New("probe: source and target address families differ")
	}
	if req.Count == 0 {
		req.Count = DefaultCount
	}
	if req.Interval == 0 {
		req.Interval = DefaultInterval
	}
	if req.Interval < MinInterval {
		return fmt.Errorf("probe: interval %v below the minimum %v", req.Interval, MinInterval)
	}
	if req.Timeout == 0 {
		req.Timeout = DefaultTimeout
	}
	if req.Size == 0 {
		req.Size = DefaultSize
	}
	if req.Size < MinSize || req.Size > MaxSize {
		return fmt.Errorf("probe: size %d out of range %d..%d", req.Size, MinSize, MaxSize)
	}
	return nil
}
