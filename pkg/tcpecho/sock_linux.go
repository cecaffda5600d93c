//go:build linux

package tcpecho

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// errSendBufferFull is returned by sockConn.Write when the kernel would
// block: the peer has not read for so long that its receive window and our
// send buffer are full. Echo probes are one byte every few seconds, so this
// only happens to a client that never reads.
var errSendBufferFull = errors.New("send buffer full: the client does not read")

// sockConn is a TCP connection read with recvmsg, so that each read carries
// the kernel's receive timestamp (SO_TIMESTAMPNS, which TCP supports: the
// timestamp of the last segment copied), and written without ever blocking.
// Reads go through Go's netpoller (RawConn.Read), so read deadlines work and
// an idle connection costs no thread. Read is for one goroutine at a time;
// Write may run concurrently with Read.
type sockConn struct {
	*net.TCPConn
	raw    syscall.RawConn
	stamps bool  // SO_TIMESTAMPNS is on
	lastRx int64 // receive timestamp of the last read, wall ns; 0 if none (reader's own)

	// The raw operations and their arguments and results live here, bound
	// once, so that a read, a write or a TCP_INFO costs no allocation. The
	// r* fields belong to the reader, w* to the writer (one at a time:
	// the scheduler under the client's lock, or the TLS layer under its
	// own), i* to the reader.
	rfn, wfn func(fd uintptr) bool
	ifn      func(fd uintptr)
	rbuf     []byte
	rn, roob int
	rerr     error
	oob      [64]byte // control buffer of the reader
	wbuf     []byte
	wn       int
	werr     error
	info     unix.TCPInfo
	ierr     error
}

// newSockConn wraps c and turns on receive timestamps where the kernel
// offers them; without them RTTs fall back to the monotonic clock.
func newSockConn(c *net.TCPConn) (*sockConn, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &sockConn{TCPConn: c, raw: raw}
	s.rfn, s.wfn, s.ifn = s.readOp, s.writeOp, s.infoOp
	_ = raw.Control(func(fd uintptr) {
		s.stamps = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) == nil
	})
	return s, nil
}

// Read reads like net.Conn.Read and records the kernel receive timestamp of
// the data in lastRx.
func (s *sockConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.rbuf = p
	err := s.raw.Read(s.rfn)
	s.rbuf = nil
	if err == nil {
		err = s.rerr
	}
	if err != nil {
		return 0, err
	}
	if s.rn == 0 {
		return 0, io.EOF
	}
	s.lastRx = rxStamp(s.oob[:s.roob])
	return s.rn, nil
}

func (s *sockConn) readOp(fd uintptr) bool {
	s.rn, s.roob, _, _, s.rerr = unix.Recvmsg(int(fd), s.rbuf, s.oob[:], 0)
	return s.rerr != unix.EAGAIN && s.rerr != unix.EINTR
}

// Write writes p in one non-blocking send. A send the kernel would block
// or could only take in part fails with errSendBufferFull; the caller then
// drops the connection (a partial TLS record could not be resumed anyway).
func (s *sockConn) Write(p []byte) (int, error) {
	s.wbuf = p
	err := s.raw.Write(s.wfn)
	s.wbuf = nil
	if err == nil {
		err = s.werr
	}
	n := s.wn
	if err == unix.EAGAIN || err == nil && n < len(p) {
		return max(n, 0), errSendBufferFull
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (s *sockConn) writeOp(fd uintptr) bool {
	s.wn, s.werr = unix.SendmsgN(int(fd), s.wbuf, nil, nil, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
	return true // never wait for the socket to become writable
}

// rxStamp returns the SCM_TIMESTAMPNS in oob as wall-clock nanoseconds, or
// 0. oob comes from the kernel but is walked defensively.
func rxStamp(oob []byte) int64 {
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l-hdrLen >= int(unsafe.Sizeof(unix.Timespec{})) {
			return (*unix.Timespec)(unsafe.Pointer(&oob[hdrLen])).Nano()
		}
		next := unix.CmsgSpace(l - hdrLen)
		if next > len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}

// kernelInfo reads TCP_INFO (linux/tcp.h) of the connection: the kernel's
// smoothed RTT estimate and its variation (RFC 6298), the minimum RTT it
// has seen, and its retransmission counters. Reader only.
func (s *sockConn) kernelInfo() (Kernel, error) {
	err := s.raw.Control(s.ifn)
	if err == nil {
		err = s.ierr
	}
	if err != nil {
		return Kernel{}, fmt.Errorf("TCP_INFO: %w", err)
	}
	return kernelOf(&s.info), nil
}

// infoOp is getsockopt(TCP_INFO) into s.info without the allocation of
// unix.GetsockoptTCPInfo. A kernel older than the struct fills a prefix.
func (s *sockConn) infoOp(fd uintptr) {
	l := uint32(unsafe.Sizeof(s.info))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&s.info)), uintptr(unsafe.Pointer(&l)), 0)
	s.ierr = nil
	if e != 0 {
		s.ierr = e
	}
}
