package netlab

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Applied is what the responder did with one echo request.
type Applied struct {
	Want time.Duration // the delay drawn from the distribution
	// Got is the delay actually applied: from the kernel's receive
	// timestamp of the request to the moment the reply was handed to the
	// kernel. It exceeds Want by the timer's lateness; 0 until sent.
	Got time.Duration
	// Done is the same up to the return of the send syscall: the reply
	// left between Got and Done (a preempted responder widens the gap).
	Done time.Duration
	V6   bool
	// What the request carried, as the host saw it.
	From netip.Addr // source address
	To   netip.Addr // destination address (the reply comes from it)
	TTL  int        // TTL / hop limit
	TOS  int        // IPv4 TOS byte / IPv6 traffic class
}

// Responder answers echo requests inside a Host in user space, each after a
// delay drawn from a known distribution. Its methods are safe for concurrent
// use.
type Responder struct {
	mu      sync.Mutex
	idle    sync.Cond // signalled when pending drops to 0; uses mu
	pending int       // replies scheduled but not yet written
	copies  int       // replies written per request; 0 means 1
	delay   func() time.Duration
	applied []Applied
	wg      sync.WaitGroup
}

// Respond turns off the host kernel's own echo replies
// (net.ipv4.icmp_echo_ignore_all, net.ipv6.icmp.echo_ignore_all) and starts
// a responder that answers each echo request after delay() (called once per
// request, serialised). The requests' timestamps are the kernel's, so the
// delay runs from the request's arrival. The responder stops at t.Cleanup.
func (h *Host) Respond(delay func() time.Duration) *Responder {
	h.t.Helper()
	r := &Responder{delay: delay}
	r.idle.L = &r.mu
	h.Sysctl("net.ipv4.icmp_echo_ignore_all", "1")
	fams := []bool{false}
	if h.Addr6.IsValid() {
		h.Sysctl("net.ipv6.icmp.echo_ignore_all", "1")
		fams = append(fams, true)
	}
	var conns []*net.IPConn
	h.t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		r.wg.Wait()
	})
	for _, v6 := range fams {
		var conn *net.IPConn
		err := h.Do(func() error {
			var err error
			conn, err = rawICMP(v6)
			return err
		})
		if err != nil {
			h.t.Fatalf("netlab: responder in %s: %v", h.Name, err)
		}
		conns = append(conns, conn)
		r.wg.Add(1)
		go r.serve(conn, v6)
	}
	return r
}

// Applied returns what the responder did so far, one entry per echo request
// in the order they arrived (IPv4 and IPv6 interleaved). It first waits for
// the replies already scheduled to be written, so every entry is complete.
func (r *Responder) Applied() []Applied {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.pending > 0 {
		r.idle.Wait()
	}
	return append([]Applied(nil), r.applied...)
}

// SetCopies makes the responder answer each later request n times (n ≥ 1),
// the copies back to back after the delay, as a misbehaving host or a
// duplicating link would: n−1 of them are duplicates.
func (r *Responder) SetCopies(n int) {
	r.mu.Lock()
	r.copies = max(n, 1)
	r.mu.Unlock()
}

func rawICMP(v6 bool) (*net.IPConn, error) {
	dom, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		dom, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	fd, err := unix.Socket(dom, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if v6 {
		// IPv6 raw sockets get no header: ask for hop limit, class and
		// destination.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS, 1)
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
	}
	f := os.NewFile(uintptr(fd), "netlab-icmp")
	defer f.Close()
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return nil, err
	}
	c, ok := pc.(*net.IPConn)
	if !ok {
		pc.Close()
		return nil, fmt.Errorf("unexpected %T", pc)
	}
	return c, nil
}

func (r *Responder) serve(c *net.IPConn, v6 bool) {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	oob := make([]byte, 256)
	for {
		n, oobn, _, src, err := c.ReadMsgIP(buf, oob)
		if err != nil {
			return // closed
		}
		a := Applied{V6: v6}
		rx := readOOB(oob[:oobn], &a)
		if !v6 && n >= 20 {
			a.TOS, a.TTL = int(buf[1]), int(buf[8])
			a.To = netip.AddrFrom4([4]byte(buf[16:20]))
		}
		if ip, ok := netip.AddrFromSlice(src.IP); ok {
			a.From = ip.Unmap()
		}
		reply, ok := echoToReply(buf[:n], v6)
		if !ok {
			continue
		}
		r.mu.Lock()
		want := r.delay()
		copies := max(r.copies, 1)
		a.Want = want
		idx := len(r.applied)
		r.applied = append(r.applied, a)
		r.pending++
		r.mu.Unlock()
		r.wg.Add(1)
		time.AfterFunc(time.Until(rx.Add(want)), func() {
			defer r.wg.Done()
			// Recorded before the write, so that it is there by the time
			// the reply is.
			r.mu.Lock()
			r.applied[idx].Got = time.Since(rx)
			r.mu.Unlock()
			// From the address the request was sent to, as a kernel
			// would answer.
			for range copies {
				_, _, _ = c.WriteMsgIP(reply, srcOOB(a.To), src)
			}
			r.mu.Lock()
			r.applied[idx].Done = time.Since(rx)
			r.pending--
			if r.pending == 0 {
				r.idle.Broadcast()
			}
			r.mu.Unlock()
		})
	}
}

// readOOB reads the receive timestamp (SO_TIMESTAMPNS; now when absent) and
// the IPv6 hop limit and traffic class control messages.
func readOOB(oob []byte, a *Applied) time.Time {
	rx := time.Now()
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return rx
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16:
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			rx = time.Unix(sec, nsec)
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_HOPLIMIT && len(m.Data) >= 4:
			a.TTL = int(binary.NativeEndian.Uint32(m.Data))
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_TCLASS && len(m.Data) >= 4:
			a.TOS = int(binary.NativeEndian.Uint32(m.Data))
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= 16:
			a.To = netip.AddrFrom16([16]byte(m.Data[:16]))
		}
	}
	return rx
}

// srcOOB returns the control message that sends from src (IP_PKTINFO or
// IPV6_PKTINFO), or nil.
func srcOOB(src netip.Addr) []byte {
	switch {
	case src.Is4():
		b := make([]byte, unix.CmsgSpace(unix.SizeofInet4Pktinfo))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
		h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
		pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&b[unix.CmsgLen(0)]))
		pi.Spec_dst = src.As4()
		return b
	case src.Is6():
		b := make([]byte, unix.CmsgSpace(unix.SizeofInet6Pktinfo))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
		h.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
		pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&b[unix.CmsgLen(0)]))
		pi.Addr = src.As16()
		return b
	}
	return nil
}

// echoToReply turns a received echo request (with its IPv4 header on IPv4
// raw sockets) into the matching echo reply message.
func echoToReply(b []byte, v6 bool) ([]byte, bool) {
	if !v6 {
		if len(b) < 20 {
			return nil, false
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return nil, false
		}
		b = b[ihl:]
	}
	if len(b) < 8 {
		return nil, false
	}
	req, rep := byte(8), byte(0)
	if v6 {
		req, rep = 128, 129
	}
	if b[0] != req {
		return nil, false
	}
	out := append([]byte(nil), b...)
	out[0] = rep
	out[2], out[3] = 0, 0
	if !v6 { // the kernel computes ICMPv6 checksums
		binary.BigEndian.PutUint16(out[2:4], checksum(out))
	}
	return out, true
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var s uint32
	for ; len(b) >= 2; b = b[2:] {
		s += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
