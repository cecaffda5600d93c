package tcpecho

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/testcert"
	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/target"
)

// tlsServer runs a Server with a TLS listener whose agents authenticate with
// tokens of a dev issuer (the same verifier as the API's). It returns the
// server, the listener's address, the issuer and the client TLS config.
func tlsServer(t *testing.T, opts Options) (*Server, string, *auth.Dev, *tls.Config) {
	t.Helper()
	dev, err := auth.LoadOrCreateDev(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewDevVerifier(dev)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	cert := testcert.New(t)
	opts.Auth = CredentialAuth{Tokens: v}
	if opts.Interval == 0 {
		opts.Interval, opts.Timeout, opts.SilentIntervals = testInterval, testTimeout, testSilent
	}
	opts.Policy = target.DevPolicy()
	opts.HelloTimeout = 2 * time.Second
	s, ln := newOnLoopback(t, opts)
	serveUntil(t, s, ln, func(ctx context.Context, ln net.Listener) error {
		return s.ServeTLS(ctx, ln, &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12})
	})
	return s, ln.Addr().String(), dev, &tls.Config{RootCAs: cert.Pool, MinVersion: tls.VersionTLS12}
}

// runAgent runs a to completion in the background; it stops at cleanup.
func runAgent(t *testing.T, a *Agent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func bearer(tok string) func() (string, string, error) {
	return func() (string, string, error) { return "Bearer", tok, nil }
}

// TestAgentTLS: the agent connects with TLS and a dev-issuer token carrying
// echo:agent, announces its name, and is probed under that name; a second
// agent with the same name replaces the first.
func TestAgentTLS(t *testing.T) {
	s, addr, dev, ccfg := tlsServer(t, Options{})
	tok, err := dev.Mint("agent-berlin", time.Hour, []string{DefaultAgentScope})
	if err != nil {
		t.Fatal(err)
	}
	runAgent(t, &Agent{Server: addr, TLS: ccfg, Credential: bearer(tok), Name: "berlin"})
	waitFor(t, "the agent to echo 5 probes", func() bool {
		cs := connected(s)
		return len(cs) == 1 && cs[0].Received >= 5
	})
	c := connected(s)[0]
	if c.Key != "berlin" || c.Name != "berlin" || c.Subject != "agent-berlin" || c.Mode != "tls" {
		t.Errorf("client %+v: want key and name berlin, subject agent-berlin, mode tls", c)
	}
	if c.Lost*10 > c.Received || c.Stray != 0 || c.LastRTT == nil || c.Kernel == nil {
		t.Errorf("client %+v: want no loss, RTT and kernel figures", c)
	}

	runAgent(t, &Agent{Server: addr, TLS: ccfg, Credential: bearer(tok), Name: "berlin"})
	waitFor(t, "the second agent to replace the first", func() bool {
		cs := connected(s)
		return len(cs) == 1 && cs[0].ID != c.ID && cs[0].Received >= 2
	})
	old, _ := clientByLocal(s, c.Address)
	if old.State != "gone" || old.GoneReason != ReasonReplaced {
		t.Errorf("first agent %+v: want gone, replaced", old)
	}
}

// TestAgentTLSRefused: a token without the scope, a bad token, no hello and
// plain TCP on the TLS port are each closed without becoming clients, and
// the agent is told why.
func TestAgentTLSRefused(t *testing.T) {
	s, addr, dev, ccfg := tlsServer(t, Options{})
	noScope, err := dev.Mint("x", time.Hour, []string{"ping:run"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, tok, want string
	}{
		{"scope", noScope, "forbidden"},
		{"garbage token", "a.b.c", "unauthorized"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &Agent{Server: addr, TLS: ccfg, Credential: bearer(tt.tok), Name: "n1"}
			_, err := a.session(context.Background(), nil)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("session: %v, want refused: %s", err, tt.want)
			}
		})
	}
	// TLS, then no hello: closed at the hello timeout.
	tc, err := tls.Dial("tcp", addr, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	_ = tc.SetReadDeadline(time.Now().Add(waitLimit))
	if b, err := io.ReadAll(tc); err == nil && !strings.HasPrefix(string(b), "ERR") {
		t.Errorf("silent TLS client got %q", b)
	}
	tc.Close()
	// Plain TCP speaking the plain protocol: the handshake fails, closed.
	if refusedAtOnce(t, addr) {
		t.Error("a plain client was served on the TLS listener")
	}
	if n := len(s.Clients()); n != 0 {
		t.Errorf("%d clients listed, want none", n)
	}
	// A handshake cut by the hello timeout closes before it is counted.
	waitFor(t, "4 authentication failures counted", func() bool { return s.Stats().AuthFailed == 4 })
}
