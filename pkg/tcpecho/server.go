package tcpecho

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the TCP echo service: listeners (Serve, ServeTLS), the clients
// they accepted, and the scheduler that probes them. Build it with New,
// stop it with Close. Its methods are safe for concurrent use.
type Server struct {
	opts  Options
	log   *slog.Logger
	epoch time.Time
	// epochWall is epoch on the wall clock, ns: a probe's wall time is
	// epochWall + its monotonic offset (for the kernel's RX stamps).
	epochWall int64
	rand      func() float64
	sched     *scheduler
	// poll, when not nil, is the scheduler's epoll set: plain clients are
	// read by the scheduler goroutine (poll_linux.go). nil: each client
	// has a reader goroutine (TLS clients always do).
	poll    *poller
	pollBuf [64]byte // the scheduler's read buffer

	mu      sync.Mutex
	conns   map[uint64]*conn
	perAddr map[netip.Addr]int
	byName  map[string]*conn
	pending int // accepted, still in the TLS handshake or hello
	gone    []Client
	closed  bool

	nextID  atomic.Uint64
	readers sync.WaitGroup
	stop    chan struct{}
	sinkCh  chan Window
	sinkWG  sync.WaitGroup
	ctx     context.Context // cancelled by Close; bounds hello authentication
	cancel  context.CancelFunc
	counts  counters
}

// counters are the Server's running totals (Stats).
type counters struct {
	accepted, deniedPolicy, deniedLimit, authFailed, windowsDropped atomic.Int64
	probes, echoes                                                  atomic.Int64
}

// Stats are running totals since New.
type Stats struct {
	Accepted       int64 // connections admitted
	DeniedPolicy   int64 // closed at once: the target policy denies the address
	DeniedLimit    int64 // closed at once: global or per-address limit reached
	AuthFailed     int64 // TLS connections closed for a failed handshake, hello or credential
	WindowsDropped int64 // windows not delivered because the Sink fell behind
	Probes         int64 // probe bytes sent
	Echoes         int64 // echoes matched before their deadline
	Connected      int   // clients connected now
}

// New validates opts and starts the scheduler. Call Close to stop it.
func New(opts Options) (*Server, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: o, log: o.Logger, epoch: o.Now(), rand: o.Rand,
		conns: map[uint64]*conn{}, perAddr: map[netip.Addr]int{}, byName: map[string]*conn{},
		stop: make(chan struct{}),
	}
	s.epochWall = s.epoch.UnixNano()
	if s.rand == nil {
		r := rand.New(rand.NewPCG(uint64(s.epoch.UnixNano()), 0x7cec0))
		var mu sync.Mutex
		s.rand = func() float64 { mu.Lock(); defer mu.Unlock(); return r.Float64() }
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if p, err := newPoller(); err == nil {
		s.poll = p
	} else {
		s.log.Info("tcpecho: no epoll, one reader goroutine per client", "err", err)
	}
	horizon := time.Duration(float64(o.Interval) * (1 + JitterFraction))
	s.sched = newScheduler(s.mono, s.tick, slackFor(o.Interval), horizon, s.poll, s.readPolled)
	go s.sched.run(s.stop)
	if o.Sink != nil {
		s.sinkCh = make(chan Window, 4096)
		s.sinkWG.Add(1)
		go func() {
			defer s.sinkWG.Done()
			// Not s.ctx: the last windows, delivered during Close, are
			// still written.
			for w := range s.sinkCh {
				o.Sink.Window(context.Background(), w)
			}
		}()
	}
	return s, nil
}

// mono is the server's monotonic clock in ns since New.
func (s *Server) mono() int64 { return int64(s.opts.Now().Sub(s.epoch)) }

// start registers c as a client and schedules its first probe at a random
// phase of the interval, so that clients connected together do not tick
// together.
func (s *Server) start(c *conn) {
	now := s.opts.Now()
	mono := int64(now.Sub(s.epoch))
	c.id = s.nextID.Add(1)
	c.since = now
	c.timeout = int64(s.opts.Timeout)
	c.lastHeard = mono
	c.nextSend = mono + int64(float64(s.opts.Interval)*s.rand())
	c.next = c.nextSend
	var old *conn
	s.mu.Lock()
	s.pending--
	s.conns[c.id] = c
	if s.closed { // Close ran meanwhile: the reader ends at once
		s.mu.Unlock()
		s.disconnect(c, ReasonShutdown)
		return
	}
	if c.fd != nil {
		if err := s.poll.add(c, c.fd.fd); err != nil {
			s.mu.Unlock()
			s.log.Warn("tcpecho: cannot poll a client", "addr", c.addr, "err", err)
			s.disconnect(c, ReasonError)
			return
		}
	}
	if c.name != "" {
		old = s.byName[c.name]
		s.byName[c.name] = c
	}
	s.mu.Unlock()
	s.counts.accepted.Add(1)
	if old != nil {
		s.disconnect(old, ReasonReplaced)
	}
	s.log.Info("tcpecho: client connected", "id", c.id, "addr", c.addr, "name", c.name, "mode", c.mode)
	s.sched.add(c)
}

// readLoop reads c's echoes until the connection ends, then removes it.
func (s *Server) readLoop(c *conn) {
	defer s.readers.Done()
	buf := make([]byte, 64)
	for {
		n, err := c.rw.Read(buf)
		if n > 0 {
			now := s.opts.Now()
			k, _ := c.sock.kernelInfo()
			matched, garbage := c.onEcho(buf[:n], c.sock.lastRx, s.epochWall, int64(now.Sub(s.epoch)), now, k, s.opts.MaxStray)
			s.counts.echoes.Add(int64(matched))
			if garbage {
				s.disconnect(c, ReasonGarbage)
			}
		}
		if err != nil {
			reason := ReasonError
			if errors.Is(err, io.EOF) {
				reason = ReasonEOF
			}
			s.disconnect(c, reason)
			break
		}
	}
	s.remove(c)
}

// tick is the scheduler's work for one client at mono, for its event due
// at due (mono ≤ due ≤ mono + slack).
func (s *Server) tick(c *conn, mono, due int64) (int64, bool) {
	interval, timeout := int64(s.opts.Interval), int64(s.opts.Timeout)
	var out []Window
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, false
	}
	c.expire(mono - timeout)
	if mono-c.lastHeard >= int64(s.opts.SilentIntervals)*interval {
		c.mu.Unlock()
		s.disconnect(c, ReasonSilent)
		return 0, false
	}
	now := s.epoch.Add(time.Duration(mono))
	if c.cur == nil || !now.Before(c.cur.end) {
		if c.prev != nil {
			out = append(out, c.export(c.prev))
		}
		start := now.Truncate(s.opts.Window)
		c.prev, c.cur = c.cur, &window{start: start, end: start.Add(s.opts.Window)}
	}
	if c.prev != nil && c.prev.pending == 0 {
		out = append(out, c.export(c.prev))
		c.prev = nil
	}
	var werr error
	if due >= c.nextSend {
		werr = s.send(c)
		c.nextSend += int64(float64(interval) * (1 + JitterFraction*(2*s.rand()-1)))
		if c.nextSend <= mono { // fell behind: do not send a burst to catch up
			c.nextSend = mono + interval
		}
	}
	// Deadlines are checked at the next send, not at events of their own
	// (with the default timeout below the interval they have passed by
	// then; a longer timeout learns of a loss up to one interval late).
	// One event per probe halves the scheduler's work.
	next := c.nextSend
	c.mu.Unlock()
	s.deliver(out)
	if werr != nil {
		reason := ReasonError
		if errors.Is(werr, errSendBufferFull) {
			reason = ReasonNotReading
		}
		s.disconnect(c, reason)
		return 0, false
	}
	return next, true
}

// send writes c's next probe. Called with c.mu held; the write never
// blocks.
func (s *Server) send(c *conn) error {
	c.probe[0] = c.record(int64(s.opts.Now().Sub(s.epoch)))
	s.counts.probes.Add(1)
	_, err := c.rw.Write(c.probe[:])
	return err
}

// deliver hands windows to the sink without waiting.
func (s *Server) deliver(ws []Window) {
	if s.sinkCh == nil {
		return
	}
	for _, w := range ws {
		select {
		case s.sinkCh <- w:
		default:
			if s.counts.windowsDropped.Add(1)%100 == 1 {
				s.log.Warn("tcpecho: the archive feed is behind, windows dropped", "dropped", s.counts.windowsDropped.Load())
			}
		}
	}
}

// disconnect closes c once, counting its probes in flight as lost and
// delivering its open windows. The reader goroutine then removes it.
func (s *Server) disconnect(c *conn, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.reason, c.closedAt = true, reason, s.opts.Now()
	c.expire(1<<62 - 1)
	var out []Window
	for _, w := range []*window{c.prev, c.cur} {
		if w != nil && w.sent > 0 {
			out = append(out, c.export(w))
		}
	}
	c.prev, c.cur = nil, nil
	c.mu.Unlock()
	_ = c.rw.Close()
	s.deliver(out)
	s.log.Info("tcpecho: client disconnected", "id", c.id, "addr", c.addr, "name", c.name, "reason", reason)
	if c.fd != nil { // no reader goroutine to do it
		s.remove(c)
	}
}

// remove forgets c once its reader has ended; it stays listed as gone.
func (s *Server) remove(c *conn) {
	v := c.view()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c.id)
	if c.name != "" && s.byName[c.name] == c {
		delete(s.byName, c.name)
	}
	s.dropAddr(c.addr.Addr())
	if len(s.gone) >= DefaultGoneRetention {
		s.gone = slices.Delete(s.gone, 0, 1)
	}
	s.gone = append(s.gone, v)
}

// Clients lists the connected clients by ID, then the recently gone ones
// (at most DefaultGoneRetention), most recent last. The slice is new.
func (s *Server) Clients() []Client {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		cs = append(cs, c)
	}
	gone := slices.Clone(s.gone)
	s.mu.Unlock()
	slices.SortFunc(cs, func(a, b *conn) int { return cmp.Compare(a.id, b.id) })
	out := make([]Client, 0, len(cs)+len(gone))
	for _, c := range cs {
		out = append(out, c.view())
	}
	return append(out, gone...)
}

// Stats returns the running totals.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return Stats{Accepted: s.counts.accepted.Load(), DeniedPolicy: s.counts.deniedPolicy.Load(),
		DeniedLimit: s.counts.deniedLimit.Load(), AuthFailed: s.counts.authFailed.Load(),
		WindowsDropped: s.counts.windowsDropped.Load(), Probes: s.counts.probes.Load(), Echoes: s.counts.echoes.Load(),
		Connected: n}
}

// Close disconnects every client, stops the scheduler and delivers the
// last windows to the Sink. The listeners stop with their contexts.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	cs := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	close(s.stop)
	s.sched.wakeup()
	<-s.sched.done
	for _, c := range cs {
		s.disconnect(c, ReasonShutdown)
	}
	s.cancel() // ends hellos in progress
	s.readers.Wait()
	if s.poll != nil {
		s.poll.close()
	}
	if s.sinkCh != nil {
		close(s.sinkCh)
		s.sinkWG.Wait()
	}
}
