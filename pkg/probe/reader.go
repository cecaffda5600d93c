package probe

import (
	"time"
)

// Stats are engine-wide counters since New.
type Stats struct {
	Sent      uint64 // echo requests handed to the kernel
	Matched   uint64 // replies matched to a request (including duplicates and late ones)
	Unmatched uint64 // echo replies read that matched no request (wrong id, sequence, token or source)
	// SocketDrops is the number of datagrams the sockets dropped because
	// their receive buffer was full (SO_RXQ_OVFL), summed over families.
	SocketDrops uint64
	// TxStamped counts requests whose send time is the kernel's transmit
	// timestamp rather than the user-space time before the syscall.
	TxStamped uint64
	// Late counts replies that matched a request after its deadline (the
	// request is counted lost).
	Late uint64
	// SendErrors counts requests the kernel refused to send.
	SendErrors uint64
	// Wakeups counts passes of the engine's loop: each is one wake-up of
	// its goroutine, by a timer, a new measurement or a send batch.
	Wakeups  uint64
	InFlight int // entries in the in-flight table now
	Active   int // measurements registered now
}

// counters are guarded by Engine.mu.
type counters struct {
	sent, matched, unmatched, txStamped uint64
	late, sendErrors, wakeups           uint64
	drops                               [2]uint32
}

// Stats returns a snapshot of the engine's counters. Safe for concurrent use.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Stats{
		Sent:        e.cnt.sent,
		Matched:     e.cnt.matched,
		Unmatched:   e.cnt.unmatched,
		SocketDrops: uint64(e.cnt.drops[0]) + uint64(e.cnt.drops[1]),
		TxStamped:   e.cnt.txStamped,
		Late:        e.cnt.late,
		SendErrors:  e.cnt.sendErrors,
		Wakeups:     e.cnt.wakeups,
		InFlight:    e.table.len(),
		Active:      len(e.sched.h),
	}
}

// maxReads bounds the recv calls per socket in one pass of the loop, so
// that a flood of replies cannot hold back sends and expiries.
const maxReads = 8

// read drains the sockets of the families in busy (those with requests in
// flight) and hands each reply to its measurement. It runs on the loop
// goroutine. A socket whose read fails is left alone for a backoff that
// doubles up to 100 ms, so that an error that repeats cannot turn the loop
// into a spinning, log-flooding one.
func (e *Engine) read(busy [2]bool, now int64) {
	for fam, c := range e.conns {
		if c == nil || !busy[fam] || now < e.rd[fam].until {
			continue
		}
		for range maxReads {
			msgs, more, err := c.recv()
			if err != nil {
				b := &e.rd[fam]
				b.backoff = min(max(2*b.backoff, time.Millisecond), 100*time.Millisecond)
				b.until = now + int64(b.backoff)
				e.log.Warn("probe: read", "family", 4+2*fam, "err", err, "retry_in", b.backoff)
				break
			}
			e.rd[fam].backoff = 0
			if len(msgs) > 0 {
				e.mu.Lock()
				for i := range msgs {
					e.match(fam, c, &msgs[i])
				}
				e.mu.Unlock()
			}
			if !more {
				break
			}
		}
	}
}

// readBackoff is the state of one socket's read errors (loop goroutine only).
type readBackoff struct {
	backoff time.Duration
	until   int64 // mono ns before which the socket is not read
}

// match hands one datagram to the request it answers. Caller holds e.mu.
func (e *Engine) match(fam int, c packetConn, msg *rxMsg) {
	if msg.drops > e.cnt.drops[fam] {
		e.cnt.drops[fam] = msg.drops
	}
	if msg.tx {
		e.matchTx(fam, msg)
		return
	}
	r, ok := parseReply(msg.data, fam == 1, c.ipHeader())
	if !ok {
		return // not an echo reply: the filter let it through or there is none
	}
	if !c.filtersID() && r.ID != c.ident() {
		e.cnt.unmatched++
		return
	}
	f, ok := e.table.get(msg.src, r.Seq)
	if !ok || f.m.token != r.Token {
		e.cnt.unmatched++
		return
	}
	e.cnt.matched++
	m, i := f.m, int(f.idx)
	p := &m.pk[i]
	if p.flags&fReply != 0 {
		if p.dups < 1<<16-1 {
			p.dups++
		}
		return
	}
	p.flags |= fReply
	p.rxWall = msg.rxWall
	if p.rxWall == 0 {
		p.rxWall = time.Now().UnixNano()
	}
	ttl := msg.ttl
	if ttl == 0 {
		ttl = r.TTL
	}
	p.ttl = uint8(ttl)
	if p.flags&fSent != 0 && m.classify(i) {
		e.cnt.late++
	}
}

// matchTx records the kernel's transmit timestamp of one of our requests.
// A stamp that comes after the request's fate was decided is ignored, so
// that an RTT never changes once reported. Caller holds e.mu.
func (e *Engine) matchTx(fam int, msg *rxMsg) {
	s, ok := parseSent(msg.data, fam == 1)
	if !ok || msg.txWall == 0 {
		return
	}
	f, ok := e.table.get(s.Dst, s.Seq)
	if !ok || f.m.token != s.Token {
		return
	}
	p := &f.m.pk[f.idx]
	if p.final() || p.flags&fTx != 0 {
		return
	}
	p.txWall = msg.txWall
	p.flags |= fTx
	e.cnt.txStamped++
}
