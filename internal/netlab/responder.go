package netlab

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Applied is what the responder did with one echo request.
type Applied struct {
	Want time.Duration // the delay drawn from the distribution
	// Got is the delay actually applied: from the kernel's receive
	// timestamp of the request to the moment the reply was handed to the
	// kernel. It exceeds Want by the timer's lateness; 0 until sent.
	Got time.Duration
	V6  bool
}

// Responder answers echo requests inside a Host in user space, each after a
// delay drawn from a known distribution. Its methods are safe for concurrent
// use.
type Responder struct {
	mu      sync.Mutex
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
// in the order they arrived (IPv4 and IPv6 interleaved).
func (r *Responder) Applied() []Applied {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Applied(nil), r.applied...)
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
		rx := rxTime(oob[:oobn])
		reply, ok := echoToReply(buf[:n], v6)
		if !ok {
			continue
		}
		r.mu.Lock()
		want := r.delay()
		idx := len(r.applied)
		r.applied = append(r.applied, Applied{Want: want, V6: v6})
		r.mu.Unlock()
		r.wg.Add(1)
		time.AfterFunc(time.Until(rx.Add(want)), func() {
			defer r.wg.Done()
			sent := time.Now()
			if _, err := c.WriteToIP(reply, src); err != nil {
				return
			}
			r.mu.Lock()
			r.applied[idx].Got = sent.Sub(rx)
			r.mu.Unlock()
		})
	}
}

// rxTime reads the SO_TIMESTAMPNS control message, or returns now.
func rxTime(oob []byte) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
				sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
				nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
				return time.Unix(sec, nsec)
			}
		}
	}
	return time.Now()
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
