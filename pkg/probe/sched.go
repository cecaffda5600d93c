package probe

import (
	"time"
)

// maxSendBatch bounds how many requests the scheduler prepares under the
// engine lock before it releases it to send them.
const maxSendBatch = 64

// minSleep is the shortest the scheduler asks to sleep while rate-limited.
const minSleep = 50 * time.Microsecond

// burstWindow sizes the token bucket: the engine never sends more than
// Rate×burstWindow packets back to back (100 at the default rate). Go
// timers wake about 1 ms late here, so a bucket of one millisecond's worth
// would cap the real rate well below Rate; two keep it there.
const burstWindow = 2 * time.Millisecond

// scheduler holds the measurements ordered by their next event (a send, an
// expiry, or the end of a late-reply window) and the token bucket that caps
// the engine's packet rate. It is guarded by Engine.mu.
type scheduler struct {
	h      measHeap
	arena  []byte   // the batch's messages (loop goroutine only)
	msgs   []outMsg // the batch's messages for one socket (loop goroutine only)
	walls  []int64
	errs   []error
	rate   float64 // tokens per second
	burst  float64 // bucket size: burstWindow's worth of packets
	tokens float64
	last   int64 // mono ns of the last refill
	batch  []sendItem
	buf    []byte // echo message under construction (loop goroutine only)
}

type sendItem struct {
	m   *meas
	idx int
}

func (s *scheduler) init(rate float64) {
	s.rate = rate
	s.burst = max(1, rate*burstWindow.Seconds())
	s.tokens = s.burst
	s.buf = make([]byte, 8+MaxSize)
}

// take consumes one send token if one is available at mono time now.
func (s *scheduler) take(now int64) bool {
	s.tokens = min(s.burst, s.tokens+float64(now-s.last)*s.rate/1e9)
	s.last = now
	if s.tokens >= 1 {
		s.tokens--
		return true
	}
	return false
}

// tokenWait is how long until the next token.
func (s *scheduler) tokenWait() time.Duration {
	return time.Duration((1 - s.tokens) / s.rate * 1e9)
}

// pollInterval is the longest the loop sleeps while requests are in
// flight: replies that arrive while it sleeps wait in the socket for at
// most this long. Their RTT does not depend on it (it comes from the
// kernel's stamps); only how soon Ping learns of them does.
const pollInterval = 5 * time.Millisecond

// loop is the engine's one goroutine: it reads the replies and transmit
// stamps the sockets hold, sends due requests within the rate limit,
// expires requests whose deadline passed, and sleeps until the next event
// or a new measurement. Sends keep each measurement's phase, so
// measurements started together stay spread out by the rate limit.
//
// The sockets are not in Go's network poller. On loopback a reply is
// queued during the loop's own sendmsg and read right after it; a reply
// from further away is read at the loop's next wake, at most pollInterval
// later. A reader of its own would cost a second goroutine, and a second
// thread, woken for every reply (see docs/PERFORMANCE-monitor.md).
func (e *Engine) loop() {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var busy [2]bool // families with requests in flight: only the loop adds them
	for {
		e.read(busy, e.mono())

		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return
		}
		e.cnt.wakeups++
		now := e.mono()
		limited := e.collect(now)
		wait := time.Hour
		switch {
		case limited:
			// The next due send waits for a token; the heap top is already
			// due, so its time would make this loop spin.
			wait = max(e.sched.tokenWait(), minSleep)
		case len(e.sched.h) > 0:
			wait = time.Duration(e.sched.h[0].at - now)
		}
		busy = [2]bool{e.inTable[0] > 0, e.inTable[1] > 0}
		if busy[0] || busy[1] {
			wait = min(wait, pollInterval)
		}
		batch := e.sched.batch
		e.sleepUntil = 0
		if len(batch) == 0 {
			e.sleepUntil = now + int64(max(wait, 0))
		}
		var ps []asyncPacket
		if len(e.emitting) > 0 {
			ps = e.packetsDue() // before completeAsync: each done comes after its packets
		}
		var ds []asyncDone
		if len(e.completed) > 0 {
			ds = e.completeAsync()
		}
		e.mu.Unlock()
		callPackets(ps)
		callDone(ds)
		if len(batch) > 0 {
			e.sendBatch(batch) // then read what it drew, at the top
			continue
		}
		timer.Reset(max(wait, 0))
		select {
		case <-timer.C:
		case <-e.wake:
		case <-e.done:
			return
		}
	}
}

// collect processes every measurement whose event is due at now: expiries,
// late-window ends, and sends (prepared into e.sched.batch). It reports
// whether the rate limit held a send back. Caller holds e.mu.
func (e *Engine) collect(now int64) (limited bool) {
	s := &e.sched
	s.batch = s.batch[:0]
	for len(s.h) > 0 && len(s.batch) < maxSendBatch {
		if s.h[0].at > now {
			break
		}
		m := s.h[0].m
		e.expire(m, now)
		for m.nsent < len(m.pk) && m.nextSend <= now+int64(sendSlack) && len(s.batch) < maxSendBatch {
			if !s.take(now) {
				limited = true
				break
			}
			i := m.nsent
			m.nsent++
			next := m.nextSend + m.interval()
			if next <= now {
				next = now + m.interval() // fell behind: keep the interval, not the phase
			}
			m.nextSend = next
			if !e.allocSeq(m, i) {
				m.settle(i, fSendErr)
				continue
			}
			s.batch = append(s.batch, sendItem{m, i})
		}
		s.h.fix(0, m.nextAt())
		if limited {
			break
		}
	}
	return limited
}

// expire declares lost the requests of m whose deadline (plus grace) passed,
// and drops the table entries whose late-reply window ended.
func (e *Engine) expire(m *meas, now int64) {
	for m.nexp < m.nsent {
		p := &m.pk[m.nexp]
		if p.flags&fSendErr == 0 && (p.flags&fSent == 0 || m.expiry(m.nexp) > now) {
			break
		}
		m.settle(m.nexp, fLost)
		m.nexp++
	}
	for m.nfree < m.nexp {
		p := &m.pk[m.nfree]
		if p.flags&fSendErr == 0 && m.expiry(m.nfree)+m.lateWin() > now {
			break
		}
		e.release(m, m.nfree)
		m.nfree++
	}
}

// allocSeq gives request i of m a wire sequence number that no other
// request to the same address is using, and registers it in the in-flight
// table before it is sent. Caller holds e.mu.
func (e *Engine) allocSeq(m *meas, i int) bool {
	for range 1 << 16 {
		seq := e.seqNext[m.fam]
		e.seqNext[m.fam]++
		if _, busy := e.table.get(m.dst.ip, seq); busy {
			continue
		}
		e.table.put(m.dst.ip, seq, flight{m: m, idx: int32(i)})
		e.inTable[m.fam]++
		m.pk[i].wire = seq
		m.pk[i].flags |= fSending
		return true
	}
	return false
}

// release removes request i of m from the in-flight table, unless its
// sequence number was given to another request since. Caller holds e.mu.
func (e *Engine) release(m *meas, i int) {
	seq := m.pk[i].wire
	if f, ok := e.table.get(m.dst.ip, seq); ok && f.m == m {
		e.table.del(m.dst.ip, seq)
		e.inTable[m.fam]--
	}
}

// sendBatch sends the prepared requests outside the lock, then records their
// send times and deadlines.
func (e *Engine) sendBatch(batch []sendItem) {
	type sent struct {
		wall, mono int64
		err        error
	}
	var stack [maxSendBatch]sent
	out := stack[:len(batch)]
	e.sendAll(batch, func(j int, wall, mono int64, err error) { out[j] = sent{wall, mono, err} })
	e.mu.Lock()
	defer e.mu.Unlock()
	for j, it := range batch {
		m := it.m
		if m.finished {
			continue
		}
		p := &m.pk[it.idx]
		p.sentWall, p.sentMono = out[j].wall, out[j].mono
		p.flags |= fSent
		if err := out[j].err; err != nil {
			e.cnt.sendErrors++
			if m.sendErr == nil {
				m.sendErr = err
			}
			m.settle(it.idx, fSendErr)
		} else {
			e.cnt.sent++
			if p.flags&fReply != 0 && m.classify(it.idx) {
				e.cnt.late++
			}
		}
		if m.hidx >= 0 {
			e.sched.h.fix(m.hidx, m.nextAt())
		}
	}
}

// measHeap is a min-heap of measurements by their next event time (mono
// ns). The key sits in the array next to the pointer, so that sifting
// compares without loading each measurement (a cache miss apiece with
// tens of thousands in flight: 12 % of the loop's CPU at 300,000 hosts).
type measHeap []heapEnt

type heapEnt struct {
	at int64
	m  *meas
}

func (h measHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].m.hidx, h[j].m.hidx = i, j
}

func (h measHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].at <= h[i].at {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h measHeap) down(i int) bool {
	i0 := i
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if r := c + 1; r < len(h) && h[r].at < h[c].at {
			c = r
		}
		if h[i].at <= h[c].at {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > i0
}

// push adds m with key at.
func (h *measHeap) push(m *meas, at int64) {
	m.hidx = len(*h)
	*h = append(*h, heapEnt{at, m})
	h.up(m.hidx)
}

// fix sets the key of entry i to at and restores the order.
func (h measHeap) fix(i int, at int64) {
	h[i].at = at
	if !h.down(i) {
		h.up(i)
	}
}

// remove takes entry i out.
func (h *measHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	m := old[i].m
	if i != n {
		old.swap(i, n)
	}
	old[n] = heapEnt{}
	*h = old[:n]
	if i != n {
		h.fix(i, (*h)[i].at)
	}
	m.hidx = -1
}

// sendAll hands the batch's requests to their sockets: the consecutive
// requests for one socket in one system call where the socket can
// (batchConn), else one by one. It reports each request's send time
// (wall, and mono just after its system call) or error through sent, in
// batch order.
func (e *Engine) sendAll(batch []sendItem, sent func(j int, wall, mono int64, err error)) {
	s := &e.sched
	for j := 0; j < len(batch); {
		c := batch[j].m.conn
		k := j + 1
		for k < len(batch) && batch[k].m.conn == c {
			k++
		}
		bc, ok := c.(batchConn)
		if !ok || k-j == 1 {
			for ; j < k; j++ {
				it := batch[j]
				msg := e.buildRequest(s.buf, it)
				wall, err := c.send(msg, it.m.oob, it.m.dst)
				sent(j, wall, e.mono(), err)
			}
			continue
		}
		// Every message of the run in one buffer, so that all stay valid
		// until the system call.
		size := 0
		for _, it := range batch[j:k] {
			size += 8 + it.m.req.Size
		}
		if cap(s.arena) < size {
			s.arena = make([]byte, size)
		}
		s.msgs, s.walls, s.errs = s.msgs[:0], s.walls[:0], s.errs[:0]
		off := 0
		for _, it := range batch[j:k] {
			msg := e.buildRequest(s.arena[off:], it)
			off += len(msg)
			s.msgs = append(s.msgs, outMsg{msg: msg, oob: it.m.oob, dst: it.m.dst})
			s.walls = append(s.walls, 0)
			s.errs = append(s.errs, nil)
		}
		bc.sendMany(s.msgs, s.walls, s.errs)
		mono := e.mono()
		for i := range s.msgs {
			sent(j+i, s.walls[i], mono, s.errs[i])
			s.msgs[i] = outMsg{}
			s.errs[i] = nil
		}
		j = k
	}
}

// buildRequest writes the echo request of it into b (room for 8+Size
// bytes) and returns it.
func (e *Engine) buildRequest(b []byte, it sendItem) []byte {
	m := it.m
	payload := b[8 : 8+m.req.Size]
	fillPayload(payload, m.token)
	return buildEcho(b, m.fam == 1, m.conn.ident(), m.pk[it.idx].wire, payload)
}
