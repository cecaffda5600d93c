package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/pingapi/pingapi/pkg/config"
	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// tcpechoParts is the TCP echo service of serve: the server, its
// listeners and its archive feed.
type tcpechoParts struct {
	Server *tcpecho.Server
	Plain  net.Addr // bound address of TCPECHO_LISTEN, nil when off
	TLS    net.Addr // bound address of TCPECHO_TLS_LISTEN, nil when off

	cancel   context.CancelFunc
	wg       sync.WaitGroup // the listeners
	sinkDone chan struct{}  // closed when the archive feed has written its last windows
	sinkStop context.CancelFunc
}

// startTCPEcho starts the TCP echo listeners cfg.TCPEcho names (nil, nil
// when both are off). Clients' addresses go through policy; agents on the
// TLS listener authenticate with a token verify accepts (scope
// TCPECHO_AGENT_SCOPE) or, with an archive, an archive key; with an
// archive every client's windows are archived. Close stops it all.
func startTCPEcho(cfg config.Config, policy tcpecho.Checker, verify tcpecho.TokenVerifier, arch *archiveParts, log *slog.Logger) (*tcpechoParts, error) {
	tc := cfg.TCPEcho
	if !tc.Enabled() {
		return nil, nil
	}
	p := &tcpechoParts{}
	opts := tcpecho.Options{
		Interval: tc.Interval, Timeout: tc.Timeout, SilentIntervals: tc.SilentIntervals,
		MaxClients: tc.MaxClients, MaxPerAddr: tc.MaxPerAddr, Window: tc.Window,
		Policy: policy, Logger: log,
	}
	auth := tcpecho.CredentialAuth{Tokens: verify, Scope: tc.AgentScope}
	if arch != nil {
		sink := &tcpecho.ArchiveSink{Store: arch.Store, Agent: cfg.Archive.Agent, Interval: tc.Interval,
			Grace: tc.Timeout + 2*tc.Interval + 2*time.Second, Logger: log}
		opts.Sink = sink
		auth.Keys = tcpecho.ArchiveKeys{Store: arch.Store}
		sctx, stop := context.WithCancel(context.Background())
		p.sinkStop, p.sinkDone = stop, make(chan struct{})
		go func() { defer close(p.sinkDone); sink.Run(sctx) }()
	}
	opts.Auth = auth
	srv, err := tcpecho.New(opts)
	if err != nil {
		p.stopSink()
		return nil, err
	}
	p.Server = srv
	var tlsCfg *tls.Config
	if tc.TLSListen != "" {
		cr, err := newCertReloader(tc.TLSCert, tc.TLSKey)
		if err != nil {
			srv.Close()
			p.stopSink()
			return nil, fmt.Errorf("TCPECHO_TLS_CERT/TCPECHO_TLS_KEY: %w", err)
		}
		tlsCfg = &tls.Config{GetCertificate: cr.get, MinVersion: tls.VersionTLS12}
	}
	type listener struct {
		ln  net.Listener
		tls *tls.Config // nil: plain
	}
	var lns []listener
	for _, l := range []struct {
		addr string
		tls  *tls.Config
		out  *net.Addr
	}{{tc.Listen, nil, &p.Plain}, {tc.TLSListen, tlsCfg, &p.TLS}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, x := range lns {
				x.ln.Close()
			}
			srv.Close()
			p.stopSink()
			return nil, err
		}
		lns = append(lns, listener{ln, l.tls})
		*l.out = ln.Addr()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	for _, l := range lns {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			var err error
			if l.tls == nil {
				err = srv.Serve(ctx, l.ln)
			} else {
				err = srv.ServeTLS(ctx, l.ln, l.tls)
			}
			if err != nil {
				log.Error("tcp echo listener failed", "addr", l.ln.Addr().String(), "err", err)
			}
		}()
	}
	if p.Plain != nil {
		log.Info("tcp echo listening", "addr", p.Plain.String(), "client", "socat TCP:"+p.Plain.String()+" EXEC:cat",
			"interval", tc.Interval, "timeout", tc.Timeout, "archive", arch != nil)
	}
	if p.TLS != nil {
		log.Info("tcp echo listening for agents (TLS)", "addr", p.TLS.String(), "scope", tc.AgentScope,
			"client", "pingapi agent --server "+p.TLS.String()+" --tls --token-file FILE --name NAME")
	}
	return p, nil
}

func (p *tcpechoParts) stopSink() {
	if p.sinkStop != nil {
		p.sinkStop()
		<-p.sinkDone
	}
}

// Close stops the listeners, disconnects the clients and writes their last
// windows into the archive. Call it before closing the archive.
func (p *tcpechoParts) Close() {
	if p == nil {
		return
	}
	p.cancel()
	p.wg.Wait()
	p.Server.Close()
	p.stopSink()
}

// certReloader serves a certificate from PEM files and reloads them when
// they change (Certbot renews the files NGINX uses in place), checking at
// most once a minute.
type certReloader struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	mod     time.Time
	checked time.Time
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) load() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	fi, err := os.Stat(r.certFile)
	if err != nil {
		return err
	}
	r.cert, r.mod = &c, fi.ModTime()
	return nil
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= time.Minute {
		r.checked = now
		if fi, err := os.Stat(r.certFile); err == nil && !fi.ModTime().Equal(r.mod) {
			_ = r.load() // a half-written renewal keeps the old certificate until the next check
		}
	}
	return r.cert, nil
}
