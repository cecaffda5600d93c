//go:build linux

package probe

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// parseCmsgs reads the control messages the engine asks for (receive
// timestamp, TTL or hop limit, drop counter) into m without allocating.
// oob comes from the kernel but is parsed defensively: a malformed header
// ends the walk.
func parseCmsgs(oob []byte, m *rxMsg) {
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(oob) {
			return
		}
		data := oob[hdrLen:l]
		switch {
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && len(data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
			m.rxWall = ts.Nano()
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPING && len(data) >= int(unsafe.Sizeof(unix.Timespec{})):
			// struct scm_timestamping: ts[0] is the software timestamp.
			ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
			m.txWall = ts.Nano()
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SO_RXQ_OVFL && len(data) >= 4:
			m.drops = binary.NativeEndian.Uint32(data)
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TTL && len(data) >= 4:
			m.ttl = int(binary.NativeEndian.Uint32(data))
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_HOPLIMIT && len(data) >= 4:
			m.ttl = int(binary.NativeEndian.Uint32(data))
		}
		next := unix.CmsgSpace(l - hdrLen)
		if next > len(oob) {
			return
		}
		oob = oob[next:]
	}
}

// buildOOB returns the per-packet control message that carries a
// measurement's TTL/hop limit, TOS/traffic class and source address, or nil.
// Linux honours IP_TTL, IP_TOS and IP_PKTINFO (and their IPv6 counterparts
// IPV6_HOPLIMIT, IPV6_TCLASS, IPV6_PKTINFO) as send-side control messages
// on both raw and datagram ICMP sockets, so one shared socket serves
// measurements with different settings.
func buildOOB(v6 bool, req Request) []byte {
	if !req.Source.IsValid() && req.TTL == 0 && req.TOS == 0 {
		return nil // the common case: nothing to allocate per measurement
	}
	b := make([]byte, 0, 3*unix.CmsgSpace(20))
	i32 := func(v int) []byte {
		var x [4]byte
		binary.NativeEndian.PutUint32(x[:], uint32(v))
		return x[:]
	}
	if v6 {
		if req.Source.IsValid() {
			var pi unix.Inet6Pktinfo
			pi.Addr = req.Source.As16()
			b = appendCmsg(b, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&pi)), unix.SizeofInet6Pktinfo))
		}
		if req.TTL > 0 {
			b = appendCmsg(b, unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, i32(req.TTL))
		}
		if req.TOS > 0 {
			b = appendCmsg(b, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, i32(req.TOS))
		}
	} else {
		if req.Source.IsValid() {
			var pi unix.Inet4Pktinfo
			pi.Spec_dst = req.Source.As4()
			b = appendCmsg(b, unix.IPPROTO_IP, unix.IP_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&pi)), unix.SizeofInet4Pktinfo))
		}
		if req.TTL > 0 {
			b = appendCmsg(b, unix.IPPROTO_IP, unix.IP_TTL, i32(req.TTL))
		}
		if req.TOS > 0 {
			b = appendCmsg(b, unix.IPPROTO_IP, unix.IP_TOS, i32(req.TOS))
		}
	}
	if len(b) == 0 {
		return nil
	}
	return b
}

func appendCmsg(b []byte, level, typ int, data []byte) []byte {
	off := len(b)
	b = append(b, make([]byte, unix.CmsgSpace(len(data)))...)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[off]))
	h.Level = int32(level)
	h.Type = int32(typ)
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[off+unix.CmsgLen(0):], data)
	return b
}
