//go:build linux

package probe

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

const (
	rxBatch   = 64  // datagrams per recvmmsg
	rxBufSize = 256 // bytes kept of each datagram: L2 and IP headers, ICMP header, token
	rxOOBSize = 256 // control message bytes per datagram
)

// mmsghdr is struct mmsghdr of recvmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// sysConn is a real ICMP socket. It is not registered with Go's network
// poller: the engine's loop reads it whenever it wakes (Engine.loop), so
// no reply wakes a thread of its own.
type sysConn struct {
	v6, raw bool
	id      uint16
	fd      int

	// send state, loop goroutine only
	shdr unix.Msghdr
	siov unix.Iovec
	sa4  unix.RawSockaddrInet4
	sa6  unix.RawSockaddrInet6
	mm   *mmsgSend // sendmmsg's arrays, allocated on first use

	// receive state, loop goroutine only
	txStamps  bool   // SO_TIMESTAMPING transmit stamps are on
	rxq, errq rxRing // the receive queue and the error queue (tx stamps)
	msgs      []rxMsg
}

// rxRing is a set of reusable buffers for one recvmmsg call.
type rxRing struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	bufs  []byte
	oobs  []byte
	names []unix.RawSockaddrInet6
	n     int // datagrams read by the last call
}

// openConn opens the ICMP socket of one family (4 or 6) in the given mode.
func openConn(family int, mode SocketMode, rcvbuf int) (packetConn, error) {
	domain, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if family == 6 {
		domain, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	var dgramErr, rawErr error = errors.New("not tried"), errors.New("not tried")
	switch mode {
	case ModeAuto, ModeDgram, ModeRaw:
	default:
		return nil, fmt.Errorf("probe: unknown socket mode %q", mode)
	}
	if mode != ModeRaw {
		fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		if err == nil {
			c, err := setupConn(fd, family == 6, false, rcvbuf)
			if err == nil {
				return c, nil
			}
			dgramErr = err
		} else {
			dgramErr = err
		}
	}
	if mode != ModeDgram {
		fd, err := unix.Socket(domain, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		if err == nil {
			c, err := setupConn(fd, family == 6, true, rcvbuf)
			if err == nil {
				return c, nil
			}
			rawErr = err
		} else {
			rawErr = err
		}
	}
	if family == 6 && (errors.Is(dgramErr, unix.EAFNOSUPPORT) || errors.Is(rawErr, unix.EAFNOSUPPORT)) {
		return nil, fmt.Errorf("%w (IPv6): the host has no IPv6", ErrNoSocket)
	}
	return nil, fmt.Errorf("%w (IPv%d, mode %s): datagram socket: %v; raw socket: %v; "+
		"fix: allow unprivileged ICMP for this group with sysctl net.ipv4.ping_group_range=\"0 2147483647\", "+
		"or grant CAP_NET_RAW (setcap cap_net_raw+ep on the binary, or run as root)",
		ErrNoSocket, family, mode, dgramErr, rawErr)
}

func setupConn(fd int, v6, raw bool, rcvbuf int) (*sysConn, error) {
	c := &sysConn{v6: v6, raw: raw}
	fail := func(what string, err error) (*sysConn, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("SO_TIMESTAMPNS", err)
	}
	// Software transmit timestamps, looped back with the frame on the error
	// queue, give the send time from the kernel's side of the syscall.
	// Without them (old kernels, net.core.tstamp_allow_data=0 for
	// unprivileged users) the send time is taken just before sendmsg.
	c.txStamps = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPING,
		unix.SOF_TIMESTAMPING_TX_SOFTWARE|unix.SOF_TIMESTAMPING_SOFTWARE) == nil
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	if v6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1); err != nil {
			return fail("IPV6_RECVHOPLIMIT", err)
		}
	} else if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVTTL, 1); err != nil {
		return fail("IP_RECVTTL", err)
	}
	if raw {
		c.id = uint16(rand.Uint32())
		if v6 {
			var f unix.ICMPv6Filter
			for i := range f.Data {
				f.Data[i] = 0xffffffff // block all ...
			}
			f.Data[icmp6EchoReply>>5] &^= 1 << (icmp6EchoReply & 31) // ... but echo replies
			if err := unix.SetsockoptICMPv6Filter(fd, unix.SOL_ICMPV6, unix.ICMPV6_FILTER, &f); err != nil {
				return fail("ICMPV6_FILTER", err)
			}
		}
		if err := attachFilter(fd, v6, c.id); err != nil {
			return fail("SO_ATTACH_FILTER", err)
		}
		// Whatever was queued before the filter is somebody else's.
		drain(fd)
	} else {
		// The kernel assigns the identifier (the socket's "port") on bind
		// and rewrites it into every request we send.
		var sa unix.Sockaddr = &unix.SockaddrInet4{}
		if v6 {
			sa = &unix.SockaddrInet6{}
		}
		if err := unix.Bind(fd, sa); err != nil {
			return fail("bind", err)
		}
		got, err := unix.Getsockname(fd)
		if err != nil {
			return fail("getsockname", err)
		}
		switch a := got.(type) {
		case *unix.SockaddrInet4:
			c.id = uint16(a.Port)
		case *unix.SockaddrInet6:
			c.id = uint16(a.Port)
		}
	}
	c.fd = fd
	c.initRecv()
	return c, nil
}

// drain discards the datagrams queued on a non-blocking socket.
func drain(fd int) {
	var b [64]byte
	for range 1 << 16 {
		if _, _, err := unix.Recvfrom(fd, b[:], unix.MSG_DONTWAIT); err != nil {
			return
		}
	}
}

// attachFilter installs a classic BPF program so that the socket only
// queues echo replies carrying identifier id (raw sockets see every ICMP
// message the host receives).
func attachFilter(fd int, v6 bool, id uint16) error {
	var prog []bpf.Instruction
	if v6 {
		prog = []bpf.Instruction{
			bpf.LoadAbsolute{Off: 0, Size: 1},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: icmp6EchoReply, SkipTrue: 3},
			bpf.LoadAbsolute{Off: 4, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(id), SkipTrue: 1},
			bpf.RetConstant{Val: 0xffff},
			bpf.RetConstant{Val: 0},
		}
	} else {
		prog = []bpf.Instruction{
			bpf.LoadMemShift{Off: 0}, // X = IPv4 header length
			bpf.LoadIndirect{Off: 0, Size: 1},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: icmp4EchoReply, SkipTrue: 3},
			bpf.LoadIndirect{Off: 4, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(id), SkipTrue: 1},
			bpf.RetConstant{Val: 0xffff},
			bpf.RetConstant{Val: 0},
		}
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return err
	}
	filt := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filt[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fp := unix.SockFprog{Len: uint16(len(filt)), Filter: &filt[0]}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp)
}

func (c *sysConn) ident() uint16   { return c.id }
func (c *sysConn) ipHeader() bool  { return c.raw && !c.v6 }
func (c *sysConn) filtersID() bool { return !c.raw }
func (c *sysConn) close() error    { return unix.Close(c.fd) }

func (c *sysConn) describe() string {
	kind := "dgram"
	if c.raw {
		kind = "raw"
	}
	fam := 4
	if c.v6 {
		fam = 6
	}
	return fmt.Sprintf("icmpv%d/%s id=%d", fam, kind, c.id)
}

// send implements packetConn. Not safe for concurrent use (one sender).
func (c *sysConn) send(msg, oob []byte, dst flightAddr) (int64, error) {
	c.siov.Base = &msg[0]
	c.siov.SetLen(len(msg))
	c.shdr.Iov = &c.siov
	c.shdr.SetIovlen(1)
	if len(oob) > 0 {
		c.shdr.Control = &oob[0]
		c.shdr.SetControllen(len(oob))
	} else {
		c.shdr.Control = nil
		c.shdr.SetControllen(0)
	}
	if c.v6 {
		c.sa6.Family = unix.AF_INET6
		c.sa6.Addr = dst.ip
		c.sa6.Scope_id = dst.scope
		c.shdr.Name = (*byte)(unsafe.Pointer(&c.sa6))
		c.shdr.Namelen = unix.SizeofSockaddrInet6
	} else {
		c.sa4.Family = unix.AF_INET
		copy(c.sa4.Addr[:], dst.ip[12:])
		c.shdr.Name = (*byte)(unsafe.Pointer(&c.sa4))
		c.shdr.Namelen = unix.SizeofSockaddrInet4
	}
	return c.sendmsg()
}

// sendTries and sendWait bound how long a send waits for room in a full
// socket send buffer: the loop blocks meanwhile, so not for long.
const (
	sendTries = 10
	sendWait  = 10 * time.Millisecond
)

func (c *sysConn) sendmsg() (int64, error) {
	for range sendTries {
		// The send time is taken as late as user space can: right before
		// the syscall, so that the RTT excludes everything the engine does.
		wall := time.Now().UnixNano()
		// Raw: the socket is non-blocking. Entering a system call the
		// runtime's way wakes Go's sysmon whenever every P was idle, and
		// it then polls every 20 µs for a millisecond: at a few thousand
		// sends a second that was the process's most frequent wake-up.
		_, _, errno := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.shdr)), 0)
		switch errno {
		case 0:
			return wall, nil
		case unix.EINTR:
		case unix.EAGAIN:
			fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
			ts := unix.NsecToTimespec(int64(sendWait))
			_, _ = unix.Ppoll(fds, &ts, nil)
		default:
			return wall, errno
		}
	}
	return time.Now().UnixNano(), unix.EAGAIN
}

func (c *sysConn) initRecv() {
	c.rxq.init(rxBatch)
	if c.txStamps {
		c.errq.init(rxBatch)
	}
	c.msgs = make([]rxMsg, 2*rxBatch)
}

func (r *rxRing) init(n int) {
	r.hdrs = make([]mmsghdr, n)
	r.iovs = make([]unix.Iovec, n)
	r.bufs = make([]byte, n*rxBufSize)
	r.oobs = make([]byte, n*rxOOBSize)
	r.names = make([]unix.RawSockaddrInet6, n)
	for i := range r.hdrs {
		r.iovs[i].Base = &r.bufs[i*rxBufSize]
		r.iovs[i].SetLen(rxBufSize)
		h := &r.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		h.Control = &r.oobs[i*rxOOBSize]
	}
}

// recvmmsg reads up to len(r.hdrs) datagrams without blocking.
func (r *rxRing) recvmmsg(fd uintptr, flags int) unix.Errno {
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		h.Namelen = unix.SizeofSockaddrInet6
		h.SetControllen(rxOOBSize)
		h.Flags = 0
	}
	r.n = 0
	// Raw, as in sendmsg: MSG_DONTWAIT, it never blocks.
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])),
		uintptr(len(r.hdrs)), uintptr(flags|unix.MSG_DONTWAIT), 0, 0)
	if errno == 0 {
		r.n = int(n)
	}
	return errno
}

// appendMsgs converts what the last recvmmsg read.
func (r *rxRing) appendMsgs(out []rxMsg, tx bool) []rxMsg {
	for i := 0; i < r.n; i++ {
		h := &r.hdrs[i]
		m := rxMsg{
			data: r.bufs[i*rxBufSize : i*rxBufSize+min(int(h.len), rxBufSize)],
			src:  sockaddrIP(&r.names[i]),
			tx:   tx,
		}
		parseCmsgs(r.oobs[i*rxOOBSize:i*rxOOBSize+min(int(h.hdr.Controllen), rxOOBSize)], &m)
		out = append(out, m)
	}
	return out
}

// recv implements packetConn: one recvmmsg on the receive queue, then one
// on the error queue, and the transmit stamps returned first. The kernel
// queues a request's transmit stamp before the request can draw a reply,
// so every reply read here comes with its stamp, and the engine learns a
// request's send time before its reply.
func (c *sysConn) recv() ([]rxMsg, bool, error) {
	c.errq.n = 0
	err := errnoErr(c.rxq.recvmmsg(uintptr(c.fd), 0))
	if c.txStamps {
		_ = c.errq.recvmmsg(uintptr(c.fd), unix.MSG_ERRQUEUE)
	}
	more := c.rxq.n == len(c.rxq.hdrs) || (c.txStamps && c.errq.n == len(c.errq.hdrs))
	out := c.errq.appendMsgs(c.msgs[:0], true)
	out = c.rxq.appendMsgs(out, false)
	if err != nil && len(out) == 0 {
		return nil, false, err
	}
	return out, more, nil
}

// errnoErr is nil for the errors of a non-blocking read that found
// nothing, and the error otherwise.
func errnoErr(errno unix.Errno) error {
	switch errno {
	case 0, unix.EAGAIN, unix.EINTR:
		return nil
	}
	return errno
}

// sockaddrIP returns the address of a sockaddr_in or sockaddr_in6 in
// 16-byte form.
func sockaddrIP(sa *unix.RawSockaddrInet6) [16]byte {
	if sa.Family == unix.AF_INET {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return [16]byte{10: 0xff, 11: 0xff, 12: sa4.Addr[0], 13: sa4.Addr[1], 14: sa4.Addr[2], 15: sa4.Addr[3]}
	}
	return sa.Addr
}
