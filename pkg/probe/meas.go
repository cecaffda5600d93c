package probe

import (
	"context"
	"time"
)

// packetConn is one ICMP socket as the engine sees it. The real one lives in
// sock_linux.go; tests fake it. Every method but close is called only from
// the engine's loop goroutine.
type packetConn interface {
	// send hands one ICMP message with its control message to the kernel
	// and returns the wall-clock time (Unix ns) taken immediately before.
	send(msg, oob []byte, dst flightAddr) (int64, error)
	// recv reads, without blocking, one batch from the receive queue and
	// one from the error queue and returns the datagrams (transmit stamps
	// first); the slice and its buffers are valid until the next recv.
	// more reports that a queue filled its batch, so that another call
	// may find more.
	recv() (msgs []rxMsg, more bool, err error)
	ident() uint16    // echo identifier the socket's replies carry
	ipHeader() bool   // datagrams start with the IPv4 header (raw IPv4)
	filtersID() bool  // the kernel already filters replies by identifier
	close() error     // called once the loop has stopped
	describe() string // for logs
}

// batchConn is a packetConn that can hand several requests to the kernel
// in one system call (sendmmsg). The engine uses it when it has more than
// one request for the socket in a send batch.
type batchConn interface {
	// sendMany sends msgs in order, as send would one by one, and sets
	// walls[i] and errs[i] for each (len(msgs) entries each).
	sendMany(msgs []outMsg, walls []int64, errs []error)
}

// outMsg is one request of a batch.
type outMsg struct {
	msg, oob []byte
	dst      flightAddr
}

// flightAddr is an address in 16-byte form (IPv4 as ::ffff:a.b.c.d) with its
// IPv6 scope (interface index), as the socket layer wants it.
type flightAddr struct {
	ip    [16]byte
	scope uint32
}

// rxMsg is one received datagram.
type rxMsg struct {
	data   []byte
	src    [16]byte // IPv4 as ::ffff:a.b.c.d
	rxWall int64    // kernel receive timestamp, Unix ns; 0 if absent (the engine then uses its own clock)
	ttl    int      // from IP_TTL / IPV6_HOPLIMIT; 0 when absent
	drops  uint32   // SO_RXQ_OVFL: datagrams the socket dropped so far
	// tx marks a transmit timestamp from the socket's error queue: data is
	// the sent frame (from its link-layer header) and txWall the kernel's
	// software transmit timestamp, Unix ns.
	tx     bool
	txWall int64
}

// flightKey identifies an echo request on the wire: the only thing a reply
// reliably carries back besides the token is the peer and the sequence.
type flightKey struct {
	ip  [16]byte
	seq uint16
}

// flightTable is the in-flight table: IPv4 requests keyed by address and
// sequence packed in a uint64 (Go's map has a fast path for it: the
// generic 18-byte key's hashing and comparing were 12 % of the loop's CPU
// at 1,000,000 hosts), IPv6 ones by flightKey.
type flightTable struct {
	v4 map[uint64]flight
	v6 map[flightKey]flight
}

func newFlightTable() flightTable {
	return flightTable{v4: make(map[uint64]flight), v6: make(map[flightKey]flight)}
}

// key4 packs an IPv4 address in 16-byte form (::ffff:a.b.c.d) and a
// sequence number; ok is false for any other address.
func key4(ip [16]byte, seq uint16) (uint64, bool) {
	if [12]byte(ip[:12]) != [12]byte{10: 0xff, 11: 0xff} {
		return 0, false
	}
	return uint64(ip[12])<<40 | uint64(ip[13])<<32 | uint64(ip[14])<<24 | uint64(ip[15])<<16 | uint64(seq), true
}

func (t flightTable) get(ip [16]byte, seq uint16) (flight, bool) {
	if k, ok := key4(ip, seq); ok {
		f, ok := t.v4[k]
		return f, ok
	}
	f, ok := t.v6[flightKey{ip, seq}]
	return f, ok
}

func (t flightTable) put(ip [16]byte, seq uint16, f flight) {
	if k, ok := key4(ip, seq); ok {
		t.v4[k] = f
		return
	}
	t.v6[flightKey{ip, seq}] = f
}

func (t flightTable) del(ip [16]byte, seq uint16) {
	if k, ok := key4(ip, seq); ok {
		delete(t.v4, k)
		return
	}
	delete(t.v6, flightKey{ip, seq})
}

func (t flightTable) len() int { return len(t.v4) + len(t.v6) }

// flight points from the in-flight table to one request of a measurement.
type flight struct {
	m   *meas
	idx int32
}

// Packet state flags.
const (
	fSending uint16 = 1 << iota // sequence assigned, send in progress
	fSent                       // handed to the kernel; sentWall/sentMono valid
	fReply                      // a first matching reply was read
	fRecv                       // final: replied before the deadline
	fLost                       // final: deadline passed without reply
	fLate                       // a reply came after the deadline
	fSendErr                    // final: the kernel refused it
	fTx                         // txWall holds the kernel's transmit timestamp
)

// expiryGrace is how long after a deadline the scheduler waits before it
// declares a request lost, so that a reply the kernel stamped in time but
// the loop has not yet read is still counted received. Whether a
// reply is in time is decided on its kernel timestamp, not on this.
const expiryGrace = 10 * time.Millisecond

// pkt is the engine's state of one request.
type pkt struct {
	sentWall int64  // Unix ns, taken immediately before the send syscall
	sentMono int64  // engine mono ns just after the send
	txWall   int64  // kernel software transmit timestamp, Unix ns (fTx)
	rxWall   int64  // kernel receive timestamp of the first reply
	dups     uint16 // saturates at 65,535
	wire     uint16 // sequence number on the wire
	flags    uint16
	ttl      uint8
}

func (p *pkt) final() bool { return p.flags&(fRecv|fLost|fSendErr) != 0 }

// sendTime is when the request left: the kernel's transmit timestamp when
// the socket delivered one that is plausible (not before the user-space
// time taken just before the syscall, and within a second of it), else
// that user-space time.
func (p *pkt) sendTime() int64 {
	if p.flags&fTx != 0 && p.txWall >= p.sentWall && p.txWall-p.sentWall < int64(time.Second) {
		return p.txWall
	}
	return p.sentWall
}

// meas is one measurement (one Ping call). All fields after the immutable
// block are guarded by Engine.mu.
type meas struct {
	// immutable after Ping registered it
	req     Request // normalized: Timeout and Interval set
	conn    packetConn
	dst     flightAddr
	fam     uint8  // 0 IPv4, 1 IPv6
	oob     []byte // control message; nil without per-packet options
	token   uint64
	notify  chan struct{}
	started time.Time
	// done is the callback of a measurement begun with Start, and
	// completed the engine's list it joins when its last request settles
	// (nil for Ping's).
	done      func(Result, error)
	completed *[]*meas
	ctx       context.Context // Start's context, watched by Engine.watch (nil if it cannot be done)
	// onPacket is StartEach's per-request callback, and emitting the
	// engine's list of such measurements with requests to hand out
	// (queued: m is on it).
	onPacket func(Packet)
	emitting *[]*meas

	pk       []pkt
	nsent    int   // requests scheduled so far (sequence numbers assigned)
	nexp     int   // first request whose expiry has not been processed
	nfree    int   // first request whose table entry may still exist
	nemit    int   // first request not yet handed to onPacket
	nfinal   int   // requests whose fate is final
	nextSend int64 // mono ns of the next send
	hidx     int   // index in the scheduler heap, -1 when absent
	sendErr  error // first send error
	// eachPacket: Ping has an onPacket to call, so it is woken for every
	// request that settles; otherwise only when the measurement completes.
	eachPacket bool
	queued     bool
	finished   bool // removed from the engine
}

// timeout and interval are the request's, in ns.
func (m *meas) timeout() int64  { return int64(m.req.Timeout) }
func (m *meas) interval() int64 { return int64(m.req.Interval) }

// lateWin is how long a table entry outlives its expiry, to catch late
// replies: one timeout, at most 5 s.
func (m *meas) lateWin() int64 { return int64(min(m.req.Timeout, 5*time.Second)) }

const never = int64(1<<63 - 1)

// expiry is the mono time at which request i (already sent) becomes lost.
func (m *meas) expiry(i int) int64 {
	return m.pk[i].sentMono + m.timeout() + int64(expiryGrace)
}

// sendSlack is how early the loop sends a request when it is awake
// anyway, and housekeepingGrid the grid that expiries and the ends of
// late-reply windows are rounded up to. Both let one wake-up of the loop
// serve several requests: at 1,667 echoes per second each one otherwise
// had a wake-up for its send and two more for its expiry and its table
// entry. Neither touches an RTT (those come from kernel stamps); a request
// leaves at most sendSlack early, keeping its measurement's phase, and a
// loss is declared at most housekeepingGrid late.
const (
	sendSlack        = 2 * time.Millisecond
	housekeepingGrid = 10 * time.Millisecond
)

// nextAt computes the next time the scheduler must look at m: when its
// next send comes within sendSlack, or the housekeeping grid point at or
// after its next expiry or table release.
func (m *meas) nextAt() int64 {
	t := never
	if m.nsent < len(m.pk) {
		t = m.nextSend - int64(sendSlack)
	}
	if m.nexp < m.nsent && m.pk[m.nexp].flags&fSent != 0 {
		t = min(t, gridUp(m.expiry(m.nexp)))
	}
	if m.nfree < m.nexp {
		t = min(t, gridUp(m.expiry(m.nfree)+m.lateWin()))
	}
	return t
}

// gridUp rounds mono time t up to the housekeeping grid.
func gridUp(t int64) int64 {
	const g = int64(housekeepingGrid)
	return (t + g - 1) / g * g
}

// settle makes request i's fate final with flag (fRecv, fLost or
// fSendErr), once, and wakes Ping's goroutine if it hands out each packet
// or the measurement is now complete; a complete measurement of Start's
// joins the engine's completed list instead. Caller holds Engine.mu.
func (m *meas) settle(i int, flag uint16) {
	p := &m.pk[i]
	if p.final() {
		return
	}
	p.flags |= flag
	m.nfinal++
	if m.emitting != nil && !m.queued {
		m.queued = true
		*m.emitting = append(*m.emitting, m)
	}
	switch {
	case m.nfinal == len(m.pk) && m.completed != nil:
		*m.completed = append(*m.completed, m)
	case m.completed != nil:
	case m.eachPacket || m.nfinal == len(m.pk):
		m.poke()
	}
}

// poke wakes the measurement's Ping goroutine without blocking.
func (m *meas) poke() {
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// classify decides the fate of request i once both its send time and its
// first reply are known, and reports whether the reply was late. Caller
// holds Engine.mu.
func (m *meas) classify(i int) (late bool) {
	p := &m.pk[i]
	if p.rxWall-p.sendTime() > m.timeout() {
		p.flags |= fLate
		return true // stays pending until its expiry declares it lost
	}
	m.settle(i, fRecv)
	return false
}

// packet converts request i's state for the caller. Caller holds Engine.mu
// or owns the finished measurement.
func (m *meas) packet(i int) Packet {
	p := &m.pk[i]
	out := Packet{
		Seq:        i,
		Duplicates: int(p.dups),
		Late:       p.flags&fLate != 0,
		SendError:  p.flags&fSendErr != 0,
	}
	if p.flags&fSent != 0 {
		out.SentAt = time.Unix(0, p.sendTime())
	}
	if p.flags&fRecv != 0 {
		out.Received = true
		out.RTT = max(time.Duration(p.rxWall-p.sendTime()), 0)
		out.TTL = int(p.ttl)
	}
	return out
}
