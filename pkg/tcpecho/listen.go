package tcpecho

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Serve accepts plain clients on ln until ctx is done (then it closes ln
// and returns nil) or ln fails. ln must be a TCP listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, nil)
}

// ServeTLS accepts authenticated agents on ln: TLS with cfg, then a hello
// line whose credential Options.Auth accepts (see ParseHello); anything
// else is closed.
func (s *Server) ServeTLS(ctx context.Context, ln net.Listener, cfg *tls.Config) error {
	if s.opts.Auth == nil || cfg == nil {
		return errors.New("tcpecho: ServeTLS needs Options.Auth and a TLS configuration")
	}
	return s.serve(ctx, ln, cfg)
}

func (s *Server) serve(ctx context.Context, ln net.Listener, tlsCfg *tls.Config) error {
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	delay := 5 * time.Millisecond
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of descriptors: wait a little rather than spin.
				s.log.Warn("tcpecho: accept failed, retrying", "err", err, "in", delay)
				t := time.NewTimer(delay)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-t.C:
				}
				delay = min(2*delay, time.Second)
				continue
			}
			return err
		}
		delay = 5 * time.Millisecond
		s.accept(nc, tlsCfg)
	}
}

// accept applies the policy and the limits to a new connection, then
// starts its goroutine.
func (s *Server) accept(nc net.Conn, tlsCfg *tls.Config) {
	tcp, ok := nc.(*net.TCPConn)
	ap, err := netip.ParseAddrPort(nc.RemoteAddr().String())
	if !ok || err != nil {
		_ = nc.Close()
		return
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
	if err := s.opts.Policy.Check(ap.Addr()); err != nil {
		s.counts.deniedPolicy.Add(1)
		s.log.Debug("tcpecho: client denied by the target policy", "addr", ap, "err", err)
		_ = tcp.SetLinger(0)
		_ = nc.Close()
		return
	}
	s.mu.Lock()
	full := s.closed || len(s.conns)+s.pending >= s.opts.MaxClients || s.perAddr[ap.Addr()] >= s.opts.MaxPerAddr
	if !full {
		s.pending++
		s.perAddr[ap.Addr()]++
		s.readers.Add(1) // under mu: Close sees it, or accept sees closed
	}
	s.mu.Unlock()
	if full {
		s.counts.deniedLimit.Add(1)
		s.log.Debug("tcpecho: connection limit reached, closing", "addr", ap)
		_ = tcp.SetLinger(0)
		_ = nc.Close()
		return
	}
	var local netip.AddrPort
	if la, err := netip.ParseAddrPort(nc.LocalAddr().String()); err == nil {
		local = netip.AddrPortFrom(la.Addr().Unmap().WithZone(""), la.Port())
	}
	if tlsCfg == nil && s.poll != nil {
		f, err := detach(tcp, s.poll)
		if err != nil {
			s.release(ap.Addr())
			s.readers.Done()
			_ = nc.Close()
			return
		}
		c := &conn{addr: ap, local: local, key: ap.String(), mode: "plain", fd: f, rw: f}
		s.start(c)
		s.readers.Done() // the scheduler reads it
		return
	}
	sock, err := newSockConn(tcp)
	if err != nil {
		s.release(ap.Addr())
		s.readers.Done()
		_ = nc.Close()
		return
	}
	c := &conn{addr: ap, local: local, key: ap.String(), mode: "plain", sock: sock, rw: sock}
	if tlsCfg == nil {
		s.start(c)
		go s.readLoop(c)
		return
	}
	c.mode = "tls"
	go func() {
		if !s.hello(c, tlsCfg) {
			s.release(ap.Addr())
			s.readers.Done()
			return
		}
		s.readLoop(c)
	}()
}

// release undoes the reservation of accept for a connection that never
// became a client.
func (s *Server) release(a netip.Addr) {
	s.mu.Lock()
	s.pending--
	s.dropAddr(a)
	s.mu.Unlock()
}

func (s *Server) dropAddr(a netip.Addr) {
	if s.perAddr[a]--; s.perAddr[a] <= 0 {
		delete(s.perAddr, a)
	}
}
