//go:build linux

package probe

import (
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestCmsgRoundTrip builds control messages as the kernel lays them out and
// checks that parseCmsgs reads them back.
func TestCmsgRoundTrip(t *testing.T) {
	ts := unix.NsecToTimespec(1_700_000_000_123_456_789)
	var b []byte
	b = appendCmsg(b, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)))
	b = appendCmsg(b, unix.IPPROTO_IP, unix.IP_TTL, []byte{63, 0, 0, 0})
	b = appendCmsg(b, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, []byte{5, 0, 0, 0})
	var m rxMsg
	parseCmsgs(b, &m)
	if m.rxWall != 1_700_000_000_123_456_789 || m.ttl != 63 || m.drops != 5 {
		t.Fatalf("got %+v", m)
	}
	if oob := buildOOB(false, Request{}); oob != nil {
		t.Errorf("no options should give no control message, got %x", oob)
	}
	oob := buildOOB(true, Request{TTL: 3, TOS: 0xb8, Source: netip.MustParseAddr("::1")})
	if len(oob) != unix.CmsgSpace(unix.SizeofInet6Pktinfo)+2*unix.CmsgSpace(4) {
		t.Errorf("v6 control message length %d", len(oob))
	}
}

// FuzzParseCmsgs: control messages are parsed without trusting lengths.
func FuzzParseCmsgs(f *testing.F) {
	f.Add(appendCmsg(nil, unix.IPPROTO_IP, unix.IP_TTL, []byte{1, 0, 0, 0}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		// parseCmsgs reads headers in place; give it an aligned copy.
		al := make([]uint64, (len(b)+7)/8)
		buf := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(al))), len(al)*8)[:len(b)]
		copy(buf, b)
		var m rxMsg
		parseCmsgs(buf, &m)
	})
}
