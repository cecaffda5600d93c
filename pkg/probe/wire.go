package probe

import (
	"encoding/binary"
)

// ICMP message types used by the engine (RFC 792, RFC 4443).
const (
	icmp4EchoReply   = 0
	icmp4EchoRequest = 8
	icmp6EchoRequest = 128
	icmp6EchoReply   = 129
)

// tokenLen is the number of payload bytes that carry the per-measurement
// token; payloads shorter than this cannot be matched and are rejected.
const tokenLen = 8

// echoReply is what the engine needs from one received echo reply.
type echoReply struct {
	ID    uint16
	Seq   uint16
	Token uint64
	// TTL from the IPv4 header when the socket delivers it (raw IPv4);
	// 0 when the header is not present.
	TTL int
}

// parseReply parses one datagram as read from an ICMP socket. With
// ipHeader set (raw IPv4 sockets) b starts with the IPv4 header; otherwise b
// starts with the ICMP header. v6 selects ICMPv6 type numbers. It reports
// false for anything that is not an echo reply carrying at least a token.
// b comes from the network: parseReply must not panic on any input.
func parseReply(b []byte, v6, ipHeader bool) (echoReply, bool) {
	var r echoReply
	if ipHeader {
		if len(b) < 20 || b[0]>>4 != 4 {
			return r, false
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl || b[9] != 1 {
			return r, false
		}
		r.TTL = int(b[8])
		b = b[ihl:]
	}
	if len(b) < 8+tokenLen {
		return r, false
	}
	want := byte(icmp4EchoReply)
	if v6 {
		want = icmp6EchoReply
	}
	if b[0] != want || b[1] != 0 {
		return r, false
	}
	r.ID = binary.BigEndian.Uint16(b[4:6])
	r.Seq = binary.BigEndian.Uint16(b[6:8])
	r.Token = binary.BigEndian.Uint64(b[8 : 8+tokenLen])
	return r, true
}

// buildEcho writes an echo request with the given identifier, sequence and
// payload into b (which must have room for 8+len(payload) bytes) and returns
// the message. The ICMPv4 checksum is computed here; for ICMPv6 and for
// datagram sockets the kernel fills it in (RFC 4443 2.3 pseudo-header).
func buildEcho(b []byte, v6 bool, id, seq uint16, payload []byte) []byte {
	b = b[:8+len(payload)]
	if v6 {
		b[0] = icmp6EchoRequest
	} else {
		b[0] = icmp4EchoRequest
	}
	b[1] = 0
	b[2], b[3] = 0, 0
	binary.BigEndian.PutUint16(b[4:6], id)
	binary.BigEndian.PutUint16(b[6:8], seq)
	copy(b[8:], payload)
	if !v6 {
		binary.BigEndian.PutUint16(b[2:4], checksum(b))
	}
	return b
}

// checksum is the Internet checksum of b (RFC 1071).
func checksum(b []byte) uint16 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// makePayload returns an ICMP payload of size bytes that starts with the
// token (size must be >= tokenLen); the rest is a fixed pattern.
func makePayload(size int, token uint64) []byte {
	p := make([]byte, size)
	fillPayload(p, token)
	return p
}

// fillPayload writes the payload of makePayload into p (len(p) bytes): the
// send path builds it in place rather than keep a copy per measurement.
func fillPayload(p []byte, token uint64) {
	binary.BigEndian.PutUint64(p, token)
	for i := tokenLen; i < len(p); i++ {
		p[i] = byte(i)
	}
}

// sentEchoInfo is what the engine needs from a frame looped back with a
// transmit timestamp.
type sentEchoInfo struct {
	Dst   [16]byte // IPv4 as ::ffff:a.b.c.d
	Seq   uint16
	Token uint64
}

// maxL2 bounds the link-layer header the transmit-timestamp frames start
// with (Ethernet 14, VLAN 18, ...).
const maxL2 = 64

// parseSent finds our echo request in a frame from the socket's error
// queue: the frame starts with a link-layer header of unknown length, so it
// looks for the first offset holding an IPv4 (or IPv6) header of an ICMP
// echo request with room for the token. b comes from the kernel but is
// parsed defensively: parseSent must not panic on any input.
func parseSent(b []byte, v6 bool) (sentEchoInfo, bool) {
	var s sentEchoInfo
	for o := 0; o <= maxL2 && o < len(b); o++ {
		var icmp []byte
		if v6 {
			if b[o]>>4 != 6 || len(b) < o+40+8+tokenLen || b[o+6] != 58 || b[o+40] != icmp6EchoRequest {
				continue
			}
			copy(s.Dst[:], b[o+24:o+40])
			icmp = b[o+40:]
		} else {
			if b[o]>>4 != 4 || len(b) < o+20 {
				continue
			}
			ihl := int(b[o]&0x0f) * 4
			if ihl < 20 || len(b) < o+ihl+8+tokenLen || b[o+9] != 1 || b[o+ihl] != icmp4EchoRequest {
				continue
			}
			s.Dst = [16]byte{10: 0xff, 11: 0xff}
			copy(s.Dst[12:], b[o+16:o+20])
			icmp = b[o+ihl:]
		}
		if icmp[1] != 0 {
			continue
		}
		s.Seq = binary.BigEndian.Uint16(icmp[6:8])
		s.Token = binary.BigEndian.Uint64(icmp[8 : 8+tokenLen])
		return s, true
	}
	return s, false
}
