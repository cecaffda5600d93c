// Package probe is pingapi's ICMP echo engine: one socket per address family
// shared by every measurement in the process, one reader goroutine per
// socket, replies demultiplexed to the measurement that registered the
// request before it was written, kernel receive timestamps, per-packet
// deadlines and paced sends.
//
// It imports nothing of the project.
package probe

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
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
}

// DefaultRate is the global send rate when Options.Rate is 0.
const DefaultRate = 50000

// Request describes one measurement: Count echo requests to Target, one every
// Interval. Zero fields take the documented defaults.
type Request struct {
	Target   netip.Addr
	Count    int           // number of echo requests; must be >= 1
	Interval time.Duration // between sends; default 1s, minimum 10ms
	Timeout  time.Duration // per-packet deadline after its send; default 2s... see Engine docs
	Size     int           // ICMP payload bytes; default 56
	TTL      int           // IP TTL / hop limit; 0 = system default
	TOS      int           // IPv4 TOS byte / IPv6 traffic class; 0 = default
	Source   netip.Addr    // optional source address
}

// Packet is the fate of one echo request.
type Packet struct {
	Seq        int           // 0-based sequence number within the measurement
	SentAt     time.Time     // when the request was handed to the kernel
	Received   bool          // a matching reply arrived before the deadline
	RTT        time.Duration // kernel receive timestamp minus SentAt; 0 unless Received
	TTL        int           // TTL / hop limit of the reply; 0 unless Received
	Late       bool          // a matching reply arrived after the deadline (counted lost)
	Duplicates int           // further replies to the same request
}

// Result is the outcome of a measurement.
type Result struct {
	Target     netip.Addr
	Sent       int
	Received   int
	Duplicates int
	Late       int
	Packets    []Packet // indexed by Seq, in sequence order
	Started    time.Time
	Finished   time.Time
}

// ErrNoSocket means neither an unprivileged datagram ICMP socket nor a raw
// socket could be opened for a family.
var ErrNoSocket = errors.New("probe: cannot open an ICMP socket")

// Engine sends echo requests and matches replies. It is safe for concurrent
// use by any number of measurements.
type Engine struct {
	opts Options
}

// New opens the engine's sockets (IPv4 and, where the host has it, IPv6) and
// starts their readers.
func New(opts Options) (*Engine, error) {
	return &Engine{opts: opts}, errors.New("probe: not implemented yet")
}

// Close stops the readers and closes the sockets. Measurements in flight end
// with an error.
func (e *Engine) Close() error { return nil }

// Ready reports whether the engine has at least one open socket.
func (e *Engine) Ready() bool { return false }

// Ping runs one measurement and blocks until every request has been answered
// or has passed its deadline, or ctx is done. onPacket, if not nil, is called
// once per request, in sequence order, as soon as its fate is final (reply or
// deadline); it is called from Ping's goroutine, never concurrently.
// Cancelling ctx ends the measurement at once and returns the partial Result
// together with ctx.Err().
func (e *Engine) Ping(ctx context.Context, req Request, onPacket func(Packet)) (Result, error) {
	return Result{}, errors.New("probe: not implemented yet")
}
