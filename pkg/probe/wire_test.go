package probe

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseReply(t *testing.T) {
	payload := makePayload(56, 0x0102030405060708)
	echo4 := buildEcho(make([]byte, 100), false, 7, 9, payload)
	echo4[0] = icmp4EchoReply
	echo6 := buildEcho(make([]byte, 100), true, 7, 9, payload)
	echo6[0] = icmp6EchoReply
	ip4 := append([]byte{0x45, 0, 0, 0, 0, 0, 0, 0, 57, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}, echo4...)
	ip4opts := append([]byte{0x46, 0, 0, 0, 0, 0, 0, 0, 58, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, 1, 1, 1, 0}, echo4...)
	request := buildEcho(make([]byte, 100), false, 7, 9, payload)
	tests := []struct {
		name     string
		b        []byte
		v6, iphd bool
		ok       bool
		ttl      int
	}{
		{"v4 icmp only", echo4, false, false, true, 0},
		{"v4 with header", ip4, false, true, true, 57},
		{"v4 with options", ip4opts, false, true, true, 58},
		{"v6", echo6, true, false, true, 0},
		{"v6 type on v4 socket", echo6, false, false, false, 0},
		{"request not reply", request, false, false, false, 0},
		{"too short for token", echo4[:15], false, false, false, 0},
		{"header only", ip4[:20], false, true, false, 0},
		{"not ipv4", append([]byte{0x65}, ip4[1:]...), false, true, false, 0},
		{"not icmp", append(append([]byte{}, ip4[:9]...), append([]byte{6}, ip4[10:]...)...), false, true, false, 0},
		{"bad ihl", append([]byte{0x44}, ip4[1:]...), false, true, false, 0},
		{"empty", nil, false, true, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := parseReply(tc.b, tc.v6, tc.iphd)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if r.ID != 7 || r.Seq != 9 || r.Token != 0x0102030405060708 || r.TTL != tc.ttl {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func TestChecksum(t *testing.T) {
	// RFC 1071 section 3 example: 0001 f203 f4f5 f6f7 sums to ddf2.
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := checksum(b); got != ^uint16(0xddf2) {
		t.Fatalf("checksum = %#04x, want %#04x", got, ^uint16(0xddf2))
	}
	msg := buildEcho(make([]byte, 64), false, 1, 2, makePayload(21, 3))
	if c := checksum(msg); c != 0 {
		t.Errorf("checksum over a built echo = %#04x, want 0", c)
	}
}

// FuzzParseReply feeds arbitrary datagrams to the reply parser: it must not
// panic, and what it accepts must be an echo reply with a token.
func FuzzParseReply(f *testing.F) {
	payload := makePayload(56, 42)
	e4 := buildEcho(make([]byte, 100), false, 1, 2, payload)
	e4[0] = icmp4EchoReply
	e6 := buildEcho(make([]byte, 100), true, 1, 2, payload)
	e6[0] = icmp6EchoReply
	f.Add(e4, false, false)
	f.Add(append([]byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, e4...), false, true)
	f.Add(e6, true, false)
	f.Add([]byte{0x4f}, false, true)
	f.Add([]byte{}, true, false)
	f.Fuzz(func(t *testing.T, b []byte, v6, iphd bool) {
		r, ok := parseReply(b, v6, iphd)
		if !ok {
			return
		}
		if iphd && (r.TTL < 0 || r.TTL > 255) {
			t.Fatalf("ttl %d", r.TTL)
		}
		icmp := b
		if iphd {
			icmp = b[int(b[0]&0x0f)*4:]
		}
		if binary.BigEndian.Uint16(icmp[6:8]) != r.Seq || len(icmp) < 16 {
			t.Fatalf("accepted %x as %+v", b, r)
		}
	})
}

func TestParseSent(t *testing.T) {
	msg := buildEcho(make([]byte, 100), false, 7, 9, makePayload(56, 77))
	ip := []byte{0x45, 0, 0, 84, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 9}
	frame := append(append(make([]byte, 14), ip...), msg...)
	s, ok := parseSent(frame, false)
	if !ok || s.Seq != 9 || s.Token != 77 || s.Dst != [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 9} {
		t.Fatalf("got %+v %v", s, ok)
	}
	msg6 := buildEcho(make([]byte, 100), true, 7, 10, makePayload(56, 78))
	ip6 := make([]byte, 40)
	ip6[0], ip6[6], ip6[39] = 0x60, 58, 1
	s, ok = parseSent(append(append(make([]byte, 14), ip6...), msg6...), true)
	if !ok || s.Seq != 10 || s.Token != 78 || s.Dst[15] != 1 {
		t.Fatalf("v6: got %+v %v", s, ok)
	}
	if _, ok := parseSent(frame[:14+20+8], false); ok {
		t.Errorf("accepted a frame without room for the token")
	}
}

// FuzzParseSent: the error-queue frame parser must not panic.
func FuzzParseSent(f *testing.F) {
	msg := buildEcho(make([]byte, 100), false, 7, 9, makePayload(56, 77))
	ip := []byte{0x45, 0, 0, 84, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 9}
	f.Add(append(append(make([]byte, 14), ip...), msg...), false)
	f.Add(append(make([]byte, 54), msg...), true)
	f.Add([]byte{0x45}, false)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		if s, ok := parseSent(b, v6); ok && s.Dst == ([16]byte{}) && !v6 {
			t.Fatalf("IPv4 destination not mapped: %+v", s)
		}
	})
}

func TestNormalize(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name string
		req  Request
		want string // error substring; "" = valid
	}{
		{"defaults", Request{Target: v4}, ""},
		{"mapped target", Request{Target: netip.MustParseAddr("::ffff:192.0.2.1"), Source: v4}, ""},
		{"no target", Request{}, "invalid target"},
		{"negative count", Request{Target: v4, Count: -1}, "count"},
		{"huge count", Request{Target: v4, Count: MaxCount + 1}, "count"},
		{"interval too short", Request{Target: v4, Interval: 9 * time.Millisecond}, "interval"},
		{"negative timeout", Request{Target: v4, Timeout: -1}, "negative"},
		{"size too small", Request{Target: v4, Size: 7}, "size"},
		{"size too big", Request{Target: v4, Size: MaxSize + 1}, "size"},
		{"ttl", Request{Target: v4, TTL: 256}, "ttl"},
		{"tos", Request{Target: v4, TOS: -1}, "tos"},
		{"mixed families", Request{Target: v4, Source: v6}, "families"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			err := normalize(&req)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if req.Count != DefaultCount || req.Interval != DefaultInterval || req.Timeout != DefaultTimeout || req.Size != DefaultSize || !req.Target.Is4() {
					t.Errorf("defaults not applied: %+v", req)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
