package probe

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"
)

// fakeConn is an in-memory packetConn. Every send is handed to respond,
// which decides what comes back and when; it runs inside a synctest bubble,
// so "when" is fake time and RTTs are exact.
type fakeConn struct {
	v6      bool
	id      uint16
	sendErr error
	respond func(c *fakeConn, req sentEcho)
	// txAfter, when > 0, makes the fake loop back each request with a
	// transmit timestamp txAfter after the user-space send time, as the
	// kernel does on the error queue (behind a 14-byte link header).
	txAfter time.Duration

	recvErrs int // recv fails this many times first (loop goroutine only)

	rx     chan rxMsg
	closed chan struct{}
	once   sync.Once
	mu     sync.Mutex
	sent   []sentEcho
}

// sentEcho is one request as the fake saw it.
type sentEcho struct {
	dst  [16]byte
	id   uint16
	seq  uint16
	data []byte // the ICMP payload (token first)
	wall int64
}

func newFake(v6 bool, respond func(c *fakeConn, req sentEcho)) *fakeConn {
	return &fakeConn{v6: v6, id: 0x4242, respond: respond, rx: make(chan rxMsg, 1024), closed: make(chan struct{})}
}

func (c *fakeConn) send(msg, oob []byte, dst flightAddr) (int64, error) {
	wall := time.Now().UnixNano()
	if c.sendErr != nil {
		return wall, c.sendErr
	}
	s := sentEcho{
		dst:  dst.ip,
		id:   binary.BigEndian.Uint16(msg[4:6]),
		seq:  binary.BigEndian.Uint16(msg[6:8]),
		data: append([]byte(nil), msg[8:]...),
		wall: wall,
	}
	c.mu.Lock()
	c.sent = append(c.sent, s)
	c.mu.Unlock()
	if c.txAfter > 0 {
		frame := make([]byte, 14, 14+20+len(msg))
		ip := [20]byte{0: 0x45, 8: 64, 9: 1}
		if c.v6 {
			frame = append(frame, make([]byte, 40)...)
			frame[14], frame[14+6] = 0x60, 58
			copy(frame[14+24:], dst.ip[:])
		} else {
			copy(ip[16:], dst.ip[12:])
			frame = append(frame, ip[:]...)
		}
		frame = append(frame, msg...)
		c.rx <- rxMsg{data: frame, tx: true, txWall: wall + int64(c.txAfter)}
	}
	if c.respond != nil {
		c.respond(c, s)
	}
	return wall, nil
}

// reply queues an echo reply to s from src, stamped with the current (fake)
// time, optionally with a different token.
func (c *fakeConn) reply(s sentEcho, src [16]byte, tokenXor uint64) {
	b := make([]byte, 8+len(s.data))
	b[0] = icmp4EchoReply
	if c.v6 {
		b[0] = icmp6EchoReply
	}
	binary.BigEndian.PutUint16(b[4:6], s.id)
	binary.BigEndian.PutUint16(b[6:8], s.seq)
	copy(b[8:], s.data)
	binary.BigEndian.PutUint64(b[8:16], binary.BigEndian.Uint64(b[8:16])^tokenXor)
	select {
	case c.rx <- rxMsg{data: b, src: src, rxWall: time.Now().UnixNano(), ttl: 61}:
	case <-c.closed:
	}
}

// replyAfter replies to s after d of (fake) time.
func (c *fakeConn) replyAfter(s sentEcho, d time.Duration) {
	time.AfterFunc(d, func() { c.reply(s, s.dst, 0) })
}

// recv implements packetConn: whatever is queued, without blocking.
func (c *fakeConn) recv() ([]rxMsg, bool, error) {
	if c.recvErrs > 0 {
		c.recvErrs--
		return nil, false, errFakeRecv
	}
	var out []rxMsg
	for {
		select {
		case m := <-c.rx:
			out = append(out, m)
		default:
			return out, false, nil
		}
	}
}

func (c *fakeConn) ident() uint16    { return c.id }
func (c *fakeConn) ipHeader() bool   { return false }
func (c *fakeConn) filtersID() bool  { return false }
func (c *fakeConn) describe() string { return "fake" }
func (c *fakeConn) close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// fakeEngineOpts starts an engine over fake connections (either may be nil).
func fakeEngineOpts(opts Options, c4, c6 *fakeConn) *Engine {
	var p4, p6 packetConn
	if c4 != nil {
		p4 = c4
	}
	if c6 != nil {
		p6 = c6
	}
	return newEngine(opts, discard(), p4, p6)
}

func (c *fakeConn) sends() []sentEcho {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentEcho(nil), c.sent...)
}

var (
	errFakeSend = errors.New("fake: network is unreachable")
	errFakeRecv = errors.New("fake: no buffer space available")
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
