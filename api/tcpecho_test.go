package api

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/target"
	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// TestTCPEchoClients: GET /tcpecho/clients lists a real TCP echo client,
// with both RTT figures, behind the monitor's read scope.
func TestTCPEchoClients(t *testing.T) {
	te, err := tcpecho.New(tcpecho.Options{Interval: 20 * time.Millisecond, Timeout: 100 * time.Millisecond,
		SilentIntervals: 100, Policy: target.DevPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- te.Serve(ctx, ln) }()
	defer func() { cancel(); <-done; te.Close() }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { // the seed's client: echo every byte
		b := make([]byte, 16)
		for {
			n, err := c.Read(b)
			if err != nil {
				return
			}
			if _, err := c.Write(b[:n]); err != nil {
				return
			}
		}
	}()

	e := newEnv(t, func(d *Deps) {
		d.TCPEcho = te
		d.Verifier = &fakeVerifier{scopes: []string{"monitor:read"}}
		d.MonitorReadScope = "monitor:read"
	})
	deadline := time.Now().Add(20 * time.Second)
	var got []tcpecho.Client
	for {
		w := e.do("GET", "/tcpecho/clients?state=connected", "", bearer("a")...)
		if w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		got = nil
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].Received >= 3 && got[0].Kernel != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no client with 3 echoes: %s", w.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if cl := got[0]; cl.Address != c.LocalAddr().String() || cl.LastRTT == nil || cl.State != "connected" {
		t.Errorf("client %+v", cl)
	}
	for _, tt := range []struct {
		path   string
		hdr    []string
		status int
	}{
		{"/tcpecho/clients", nil, 401},
		{"/tcpecho/clients", []string{"Authorization", "Bearer noscope.x.y"}, 403},
		{"/tcpecho/clients?state=gone", bearer("a"), 200},
		{"/tcpecho/clients?state=up", bearer("a"), 400},
	} {
		if w := e.do("GET", tt.path, "", tt.hdr...); w.Code != tt.status {
			t.Errorf("GET %s: status %d, want %d: %s", tt.path, w.Code, tt.status, w.Body)
		}
	}
	if w := e.do("GET", "/tcpecho/clients?state=gone", "", bearer("a")...); w.Body.String() != "[]" {
		t.Errorf("gone clients: %s, want []", w.Body)
	}
}
