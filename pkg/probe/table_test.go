package probe

import (
	"net/netip"
	"testing"
)

// TestFlightTable: IPv4 requests (in 16-byte form) and IPv6 ones share no
// entry, even an IPv6 address that ends like an IPv4 one, and each is
// found, replaced and removed by its own address and sequence.
func TestFlightTable(t *testing.T) {
	tb := newFlightTable()
	a4 := netip.MustParseAddr("192.0.2.7").As16()
	b4 := netip.MustParseAddr("192.0.2.8").As16()
	a6 := netip.MustParseAddr("::c000:207").As16() // ends in 192.0.2.7
	m1, m2, m3 := &meas{}, &meas{}, &meas{}
	tb.put(a4, 9, flight{m: m1, idx: 1})
	tb.put(a6, 9, flight{m: m2, idx: 2})
	tb.put(a4, 10, flight{m: m3, idx: 3})
	for _, c := range []struct {
		ip   [16]byte
		seq  uint16
		want *meas
	}{{a4, 9, m1}, {a6, 9, m2}, {a4, 10, m3}, {b4, 9, nil}, {a6, 10, nil}} {
		f, ok := tb.get(c.ip, c.seq)
		if ok != (c.want != nil) || f.m != c.want {
			t.Errorf("get(%v, %d) = %v %v, want %v", netip.AddrFrom16(c.ip), c.seq, f.m, ok, c.want)
		}
	}
	if tb.len() != 3 || len(tb.v4) != 2 || len(tb.v6) != 1 {
		t.Fatalf("len %d (v4 %d, v6 %d), want 3 (2, 1)", tb.len(), len(tb.v4), len(tb.v6))
	}
	tb.del(a4, 9)
	if _, ok := tb.get(a4, 9); ok || tb.len() != 2 {
		t.Errorf("after del: still there, or len %d", tb.len())
	}
	if f, ok := tb.get(a6, 9); !ok || f.m != m2 {
		t.Errorf("IPv6 entry lost with the IPv4 one")
	}
}
