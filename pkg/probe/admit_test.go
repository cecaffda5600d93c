package probe

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestAdmit: the engine asks Options.Admit before every measurement, Ping
// and Start alike, and sends nothing for a refused target: the one target
// policy holds for every prober that runs on the engine.
func TestAdmit(t *testing.T) {
	errDenied := errors.New("denied by policy")
	c := newFake(false, func(c *fakeConn, s sentEcho) { c.reply(s, s.dst, 0) })
	e := fakeEngineOpts(Options{Admit: func(a netip.Addr) error {
		if a == netip.MustParseAddr("192.0.2.66") {
			return errDenied
		}
		return nil
	}}, c, nil)
	defer e.Close()
	req := Request{Target: netip.MustParseAddr("::ffff:192.0.2.66"), Count: 3, Interval: 10 * time.Millisecond, Timeout: 50 * time.Millisecond}
	if _, err := e.Ping(context.Background(), req, nil); !errors.Is(err, errDenied) {
		t.Fatalf("Ping of a refused target: %v", err)
	}
	done := make(chan error, 1)
	e.Start(context.Background(), req, func(_ Result, err error) { done <- err })
	if err := <-done; !errors.Is(err, errDenied) {
		t.Fatalf("Start of a refused target: %v", err)
	}
	if n := len(c.sends()); n != 0 {
		t.Fatalf("%d echo requests sent to a refused target", n)
	}
	req.Target = netip.MustParseAddr("192.0.2.67")
	if r, err := e.Ping(context.Background(), req, nil); err != nil || r.Sent != 3 {
		t.Fatalf("an admitted target: %+v %v", r, err)
	}
}
