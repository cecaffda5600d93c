package tcpecho

import (
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/pingapi/pingapi/pkg/stats"
)

// Reasons a client is disconnected (Client.GoneReason).
const (
	ReasonEOF        = "eof"         // the client closed the connection
	ReasonSilent     = "silent"      // no echo for K intervals: stopped echoing, or never reads
	ReasonGarbage    = "garbage"     // too many stray bytes: garbage or a flood
	ReasonNotReading = "not_reading" // our send buffer filled up
	ReasonReplaced   = "replaced"    // an agent with the same name connected again
	ReasonError      = "error"       // a socket error
	ReasonShutdown   = "shutdown"    // the server stopped
)

// conn is one client connection. The reader goroutine and the scheduler
// share it under mu; the immutable fields are set before it is shared.
type conn struct {
	id    uint64
	key   string
	addr  netip.AddrPort // the client's
	local netip.AddrPort // ours: the address the client connected to
	name  string
	subj  string
	mode  string
	since time.Time
	sock  *sockConn          // nil when polled
	fd    *fdConn            // a polled client's socket (read by the scheduler); nil otherwise
	rw    io.ReadWriteCloser // fd, sock, or the TLS connection over sock
	// timeout is the probe deadline, ns: an echo later than this (by the
	// monotonic clock of its read) is late and its probe lost.
	timeout int64

	// next is the time of the client's next scheduler event; owned by
	// the scheduler (under its lock).
	next int64

	mu         sync.Mutex
	closed     bool
	reason     string
	closedAt   time.Time
	seq        uint32 // next sequence number
	ring       [ringSize]slot
	nextSend   int64 // monotonic ns
	lastHeard  int64 // monotonic ns of the last matched echo (or of the connect)
	lastEcho   time.Time
	sent       int
	received   int
	lost       int
	late       int
	dup        int
	stray      int
	lastRTT    time.Duration
	run        stats.Running
	kernel     Kernel
	cur, prev  *window
	probe      [1]byte
	writeError error
}

// view returns the public view of c. Callers hold no lock.
func (c *conn) view() Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := Client{
		ID: c.id, Key: c.key, Address: c.addr.String(), Name: c.name, Subject: c.subj, Mode: c.mode,
		State: "connected", ConnectedSince: c.since,
		Sent: c.sent, Received: c.received, Lost: c.lost, Late: c.late, Duplicates: c.dup, Stray: c.stray,
		PacketLoss: stats.Loss(c.received+c.lost, c.received),
	}
	if c.closed {
		v.State, v.GoneReason = "gone", c.reason
		t := c.closedAt
		v.DisconnectedAt = &t
	}
	if !c.lastEcho.IsZero() {
		t := c.lastEcho
		v.LastEcho = &t
	}
	if c.run.Count() > 0 {
		v.LastRTT = ms(c.lastRTT)
		v.RTTMin, v.RTTMean, v.RTTMax = ms(c.run.Min()), ms(c.run.Mean()), ms(c.run.Max())
		v.RTTStdDev, v.Jitter = ms(c.run.StdDev()), ms(c.run.Jitter())
	}
	if c.kernel.Valid {
		k := c.kernel
		v.Kernel = &KernelView{RTT: stats.Millis(k.RTT), RTTVar: stats.Millis(k.RTTVar), MinRTT: stats.Millis(k.MinRTT),
			Retransmits: k.Retransmits, TotalRetrans: k.TotalRetrans}
	}
	return v
}

// lookup returns the slot of the most recent probe whose byte is b, or nil
// when no probe among the last ringSize carried b.
func (c *conn) lookup(b byte) *slot {
	if c.seq == 0 {
		return nil
	}
	last := c.seq - 1
	s := last - uint32(byte(last)-b)
	if last-s >= ringSize || s > last {
		return nil
	}
	sl := &c.ring[s%ringSize]
	if sl.state == slotEmpty || sl.seq != s {
		return nil
	}
	return sl
}

// onEcho handles the bytes of one read that arrived at rxWall (kernel
// stamp, wall ns, 0 if none) and was returned at mono (server ns); the
// server's epoch is epochWall on the wall clock. k is TCP_INFO
// read right after. It returns the number of echoes matched in time, and
// true when the client must be disconnected for sending garbage.
func (c *conn) onEcho(p []byte, rxWall, epochWall, mono int64, now time.Time, k Kernel, maxStray int) (matched int, garbage bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, false
	}
	for _, b := range p {
		sl := c.lookup(b)
		if sl == nil {
			c.stray++
			continue
		}
		var rtt time.Duration
		if sl.state == slotPending {
			rtt = time.Duration(mono - sl.sentMono)
			if rxWall != 0 {
				// The kernel's stamp is wall clock; trust it only while it
				// agrees with the monotonic interval (no clock step since
				// the epoch). It is also when the echo arrived: the read
				// may come later (the scheduler reads polled clients at
				// its wake-ups).
				if w := time.Duration(rxWall - epochWall - sl.sentMono); w > 0 && w <= rtt {
					rtt = w
				}
			}
			if c.timeout > 0 && int64(rtt) > c.timeout {
				// Past its deadline, though the scheduler has not expired it yet.
				sl.state = slotLost
				c.lost++
				if sl.win != nil {
					sl.win.pending--
				}
			}
		}
		switch sl.state {
		case slotPending:
			sl.state = slotAnswered
			matched++
			c.received++
			c.lastRTT = rtt
			c.run.Add(rtt)
			c.lastHeard, c.lastEcho = mono, now
			if w := sl.win; w != nil {
				w.received++
				w.pending--
				w.rtts = append(w.rtts, rtt)
				if k.Valid {
					w.krtts = append(w.krtts, k.RTT)
				}
			}
		case slotLost:
			c.late++
			c.lastHeard = mono
			if sl.win != nil {
				sl.win.late++
			}
			sl.state = slotAnswered // a second copy is a duplicate
		case slotAnswered:
			c.dup++
			c.stray++
			if sl.win != nil {
				sl.win.dup++
			}
		}
	}
	if k.Valid {
		c.kernel = k
		for _, w := range []*window{c.cur, c.prev} {
			if w == nil {
				continue
			}
			if !w.haveK {
				w.haveK, w.retrans0 = true, k.TotalRetrans
			}
			w.kernel = k
		}
	}
	return matched, c.stray > maxStray
}

// record enters the next probe, sent at mono, in the ring and the current
// window, and returns its byte. c.mu held.
func (c *conn) record(mono int64) byte {
	seq := c.seq
	c.seq++
	sl := &c.ring[seq%ringSize]
	if sl.state == slotPending { // only with a timeout above ringSize intervals
		c.lost++
		if sl.win != nil {
			sl.win.pending--
		}
	}
	*sl = slot{seq: seq, state: slotPending, sentMono: mono, win: c.cur}
	c.sent++
	if c.cur != nil {
		c.cur.sent++
		c.cur.pending++
	}
	return byte(seq)
}

// expire marks the pending probes sent at or before cutoff lost.
func (c *conn) expire(cutoff int64) {
	for i := range c.ring {
		sl := &c.ring[i]
		if sl.state == slotPending && sl.sentMono <= cutoff {
			sl.state = slotLost
			c.lost++
			if sl.win != nil {
				sl.win.pending--
			}
		}
	}
}

// export turns w into a Window and detaches its probes.
func (c *conn) export(w *window) Window {
	for i := range c.ring {
		if c.ring[i].win == w {
			c.ring[i].win = nil
		}
	}
	out := Window{Key: c.key, Addr: c.addr, Local: c.local, Name: c.name, Mode: c.mode, Start: w.start, End: w.end,
		Sent: w.sent, Received: w.received, Late: w.late, Duplicates: w.dup,
		RTTs: w.rtts, KernelRTTs: w.krtts, Kernel: w.kernel}
	if w.haveK {
		out.Retransmissions = w.kernel.TotalRetrans - w.retrans0
	}
	return out
}
