package tcpecho

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/target"
)

// serveOn runs a test server on ln until the returned stop is called.
func serveOn(t *testing.T, ln net.Listener) (*Server, func()) {
	t.Helper()
	s, err := New(Options{Interval: testInterval, Timeout: testTimeout, SilentIntervals: testSilent, Policy: target.DevPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	stop := serveUntil(t, s, ln, s.Serve)
	return s, stop
}

// TestAgentPlainReconnects: the agent without TLS is a plain echo client;
// when its server goes away it reconnects, with backoff, to the server
// that comes back on the same address, and echoes there.
func TestAgentPlainReconnects(t *testing.T) {
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln1.Addr().String()
	s1, stop1 := serveOn(t, ln1)
	var sessions atomic.Int32
	runAgent(t, &Agent{Server: addr, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		OnSession: func(up bool) {
			if up {
				sessions.Add(1)
			}
		}})
	waitFor(t, "the agent to echo on the first server", func() bool {
		cs := connected(s1)
		return len(cs) == 1 && cs[0].Received >= 3
	})
	if c := connected(s1)[0]; c.Mode != "plain" || c.Lost != 0 || c.ArchiveClient() != "127.0.0.1" {
		t.Errorf("client %+v", c)
	}
	stop1() // listener closed, the agent disconnected
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	s2, _ := serveOn(t, ln2)
	waitFor(t, "the agent to echo on the second server", func() bool {
		cs := connected(s2)
		return len(cs) == 1 && cs[0].Received >= 3
	})
	if n := sessions.Load(); n < 2 {
		t.Errorf("%d sessions, want at least 2", n)
	}
}
