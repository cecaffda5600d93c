package netlab

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Relay is a userspace TCP relay inside a Host that delays one direction by
// a known amount: the TCP counterpart of Respond. Its methods are safe for
// concurrent use.
type Relay struct {
	// Addr is where clients inside the host connect (the host's loopback).
	Addr netip.AddrPort

	mu      sync.Mutex
	applied []time.Duration
}

// Applied returns the delays actually applied to the delayed direction,
// one per chunk relayed: from the relay's read to its write (the timer's
// lateness included).
func (r *Relay) Applied() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.applied...)
}

// TCPRelay starts a relay inside h: it listens on the host's loopback and
// connects each client, from inside the host, to upstream (an address the
// host reaches over its link, e.g. a server listening on h.Local4). Bytes
// from upstream to the client are held for delay (each chunk from its
// arrival, in order); bytes from the client go upstream at once. So a
// server at upstream sees a client at h.Addr4 whose round trips are longer
// by delay, while its own kernel's TCP round trip (to the relay) is not.
// It stops at t.Cleanup.
func (h *Host) TCPRelay(upstream netip.AddrPort, delay time.Duration) *Relay {
	h.t.Helper()
	var ln net.Listener
	if err := h.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		h.t.Fatalf("netlab: relay in %s: %v", h.Name, err)
	}
	r := &Relay{Addr: netip.MustParseAddrPort(ln.Addr().String())}
	var wg sync.WaitGroup
	var cmu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		cmu.Lock()
		conns = append(conns, c)
		cmu.Unlock()
	}
	h.t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			var up net.Conn
			if err := h.Do(func() error {
				var err error
				up, err = net.DialTimeout("tcp", upstream.String(), 5*time.Second)
				return err
			}); err != nil {
				client.Close()
				continue
			}
			track(client)
			track(up)
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(up, client); up.Close() }()
			go func() { defer wg.Done(); r.delayed(client, up, delay); client.Close() }()
		}
	}()
	return r
}

// delayed copies src to dst, each chunk delay after its arrival.
func (r *Relay) delayed(dst io.Writer, src io.Reader, delay time.Duration) {
	type chunk struct {
		at time.Time
		b  []byte
	}
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		for {
			b := make([]byte, 4096)
			n, err := src.Read(b)
			if n > 0 {
				ch <- chunk{time.Now(), b[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at.Add(delay)))
		if _, err := dst.Write(c.b); err != nil {
			for range ch { // drain so the reader ends
			}
			return
		}
		r.mu.Lock()
		r.applied = append(r.applied, time.Since(c.at))
		r.mu.Unlock()
	}
}
