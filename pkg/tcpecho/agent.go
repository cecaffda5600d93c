package tcpecho

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"
)

// Agent defaults.
const (
	DefaultAgentMinBackoff = time.Second
	DefaultAgentMaxBackoff = time.Minute
	// DefaultAgentIdleTimeout: no probe for this long and the server is taken
	// for gone. Above any sensible TCPECHO_INTERVAL; TCP keepalive finds a
	// dead peer sooner.
	DefaultAgentIdleTimeout = 10 * time.Minute
)

// Agent is the client side: it connects to a server, echoes every byte it
// receives, and reconnects with exponential backoff and jitter when the
// connection ends. With TLS set it first presents a credential and its
// name (the hello); without, it is the seed's plain echo client.
type Agent struct {
	Server string      // host:port
	TLS    *tls.Config // nil: plain TCP
	// Credential returns the scheme ("Bearer" or "Key") and credential of
	// the hello; it is called before every connection, so a token file
	// that is rotated is read afresh. Required with TLS.
	Credential func() (scheme, credential string, err error)
	Name       string // announced in the hello; required with TLS

	MinBackoff  time.Duration // first retry delay; 0: DefaultAgentMinBackoff
	MaxBackoff  time.Duration // cap; 0: DefaultAgentMaxBackoff
	IdleTimeout time.Duration // reconnect after this long without a probe; 0: DefaultAgentIdleTimeout
	Logger      *slog.Logger  // nil: discard
	// Dial opens the TCP connection; nil: a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// OnSession, if not nil, is called when a session is established
	// (after the server's OK in TLS mode) and when it ends (tests, status).
	OnSession func(up bool)
}

// ErrRefused is returned by a session the server refused with ERR; it
// wraps the server's code.
var ErrRefused = errors.New("refused by the server")

// Run connects and echoes until ctx is done, reconnecting after every
// failure. The delay before attempt n is drawn uniformly from [d/2, d] with
// d = min(MaxBackoff, MinBackoff·2ⁿ) ("equal jitter"), so that agents cut
// off together do not come back together; it starts over after a session
// that echoed at least one probe. Run returns ctx's error.
func (a *Agent) Run(ctx context.Context) error {
	log := a.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	minB, maxB := a.MinBackoff, a.MaxBackoff
	if minB <= 0 {
		minB = DefaultAgentMinBackoff
	}
	if maxB < minB {
		maxB = max(DefaultAgentMaxBackoff, minB)
	}
	attempt := 0
	for ctx.Err() == nil {
		echoed, err := a.session(ctx, log)
		if ctx.Err() != nil {
			break
		}
		if echoed > 0 {
			attempt = 0
		}
		d := min(maxB, minB<<min(attempt, 30))
		if d <= 0 {
			d = maxB
		}
		d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
		attempt++
		log.Warn("agent: disconnected, reconnecting", "server", a.Server, "echoed", echoed, "err", err, "retry_in", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return ctx.Err()
}

// session runs one connection and returns how many bytes it echoed.
func (a *Agent) session(ctx context.Context, log *slog.Logger) (int64, error) {
	dial := a.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second}
		dial = d.DialContext
	}
	nc, err := dial(ctx, "tcp", a.Server)
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	defer nc.Close()
	var rw io.ReadWriter = nc
	if a.TLS != nil {
		tc, err := a.hello(ctx, nc)
		if err != nil {
			return 0, err
		}
		rw = tc
	}
	log.Info("agent: connected", "server", a.Server, "local", nc.LocalAddr().String(), "tls", a.TLS != nil, "name", a.Name)
	if a.OnSession != nil {
		a.OnSession(true)
		defer a.OnSession(false)
	}
	idle := a.IdleTimeout
	if idle <= 0 {
		idle = DefaultAgentIdleTimeout
	}
	var echoed int64
	buf := make([]byte, 512)
	for {
		_ = nc.SetReadDeadline(time.Now().Add(idle))
		n, err := rw.Read(buf)
		if n > 0 {
			_ = nc.SetWriteDeadline(time.Now().Add(idle))
			if _, werr := rw.Write(buf[:n]); werr != nil {
				return echoed, werr
			}
			echoed += int64(n)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the server closed the connection")
			}
			return echoed, err
		}
	}
}

// hello runs the TLS handshake and the hello on nc.
func (a *Agent) hello(ctx context.Context, nc net.Conn) (*tls.Conn, error) {
	if a.Credential == nil || CheckName(a.Name) != nil {
		return nil, fmt.Errorf("agent: TLS mode needs a credential and a valid name (%w)", CheckName(a.Name))
	}
	scheme, cred, err := a.Credential()
	if err != nil {
		return nil, err
	}
	cfg := a.TLS.Clone()
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(a.Server)
		cfg.ServerName = host
	}
	tc := tls.Client(nc, cfg)
	_ = nc.SetDeadline(time.Now().Add(DefaultHelloTimeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	line := FormatHello(Hello{Scheme: scheme, Credential: cred, Name: a.Name})
	if len(line) > MaxHelloBytes {
		return nil, fmt.Errorf("agent: credential too long for the hello (%d bytes)", len(line))
	}
	if _, err := io.WriteString(tc, line); err != nil {
		return nil, err
	}
	// Byte by byte: the first probe may follow the answer at once.
	ans, err := readLine(tc, 256)
	if err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	if ans != "OK" {
		return nil, fmt.Errorf("%w: %s", ErrRefused, strings.TrimPrefix(ans, "ERR "))
	}
	_ = nc.SetDeadline(time.Time{})
	return tc, nil
}
