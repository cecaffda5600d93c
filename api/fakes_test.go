package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/target"
)

// fakePinger answers from a script. With gate set, each echo waits for a
// value on gate (or ctx.Done) before it completes, so tests control the pace
// without sleeping. started receives the request when Ping begins; done
// receives ctx.Err() when Ping returns.
type fakePinger struct {
	ready   bool
	rtts    []time.Duration // per seq; <0: lost. Shorter than Count: lost.
	err     error           // returned after the packets
	panicky bool
	gate    chan struct{}
	started chan probe.Request
	done    chan error

	mu   sync.Mutex
	reqs []probe.Request
}

func (f *fakePinger) Ready() bool { return f.ready }

func (f *fakePinger) Ping(ctx context.Context, req probe.Request, onPacket func(probe.Packet)) (probe.Result, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.panicky {
		panic("fake pinger panics")
	}
	if f.started != nil {
		f.started <- req
	}
	t0 := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	res := probe.Result{Target: req.Target, Started: t0}
	finish := func(err error) (probe.Result, error) {
		res.Finished = t0.Add(time.Duration(res.Sent) * time.Second)
		if f.done != nil {
			f.done <- ctx.Err()
		}
		return res, err
	}
	for seq := 0; seq < req.Count; seq++ {
		if f.gate != nil {
			select {
			case <-f.gate:
			case <-ctx.Done():
				return finish(ctx.Err())
			}
		}
		if ctx.Err() != nil {
			return finish(ctx.Err())
		}
		p := probe.Packet{Seq: seq, SentAt: t0.Add(time.Duration(seq) * time.Second)}
		if seq < len(f.rtts) && f.rtts[seq] >= 0 {
			p.Received, p.RTT, p.TTL = true, f.rtts[seq], 64
			res.Received++
		}
		res.Sent++
		res.Packets = append(res.Packets, p)
		if onPacket != nil {
			onPacket(p)
		}
		if f.err != nil && seq == 0 {
			return finish(f.err)
		}
	}
	return finish(nil)
}

func (f *fakePinger) requests() []probe.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]probe.Request(nil), f.reqs...)
}

// fakeVerifier accepts "good.<sub>.sig" or "good-<sub>" (scopes from
// scopes) and "noscope[...]" (no scopes); "nokeys[...]" yields ErrNoKeys;
// anything else ErrInvalidToken.
type fakeVerifier struct {
	notReady bool
	scopes   []string
}

func (f *fakeVerifier) Ready() bool { return !f.notReady }

func (f *fakeVerifier) Verify(ctx context.Context, tok string) (*auth.Claims, error) {
	parts := strings.Split(tok, ".")
	switch {
	case f.notReady || parts[0] == "nokeys":
		return nil, auth.ErrNoKeys
	case parts[0] == "noscope":
		return &auth.Claims{Subject: "noscope"}, nil
	case parts[0] == "good" && len(parts) == 3:
		return &auth.Claims{Subject: parts[1], Scopes: f.scopes}, nil
	case strings.HasPrefix(tok, "good-"):
		return &auth.Claims{Subject: strings.TrimPrefix(tok, "good-"), Scopes: f.scopes}, nil
	}
	return nil, errors.Join(auth.ErrInvalidToken, errors.New("signature"))
}

// testResolver is the real target.Resolver over a fake DNS table, so the
// handler sees the errors the system resolver produces. Its own timeout is
// long: Deps.ResolveTimeout governs, as in serve.
//
//	timeout.test  the resolver reports an i/o timeout
//	servfail.test SERVFAIL (a temporary resolver failure)
//	slow.test     blocks until the context ends
//	anything else not in the table: NXDOMAIN
func testResolver() *target.Resolver {
	return dnsResolver(map[string][]string{
		"example.com":  {"192.0.2.10"},
		"v6.example":   {"2001:db8::10"},
		"private.test": {"10.1.2.3"},
		"mixed.test":   {"10.1.2.3", "2001:db8::11", "192.0.2.11"},
		"denied.test":  {"10.1.2.3", "fd00::1"},
	})
}

// dnsResolver is a target.Resolver answering from table (see testResolver).
func dnsResolver(table map[string][]string) *target.Resolver {
	return &target.Resolver{Timeout: time.Minute, Lookup: func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		switch host {
		case "timeout.test":
			return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true}
		case "servfail.test":
			return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
		case "slow.test":
			<-ctx.Done()
			return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true}
		}
		var out []netip.Addr
		for _, s := range table[host] {
			a := netip.MustParseAddr(s)
			if network == "ip4" && !a.Is4() || network == "ip6" && a.Is4() {
				continue
			}
			out = append(out, a)
		}
		if len(out) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}}
}

// env is a server under test with its fakes.
type env struct {
	srv    *Server
	pinger *fakePinger
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv builds a server with a ready fake pinger answering 1..c ms, a fake
// verifier and resolver; mod adjusts the Deps.
func newEnv(t testing.TB, mod func(*Deps)) *env {
	t.Helper()
	e := &env{pinger: &fakePinger{ready: true, rtts: []time.Duration{
		time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond, 5 * time.Millisecond}},
		logs: &syncBuffer{}}
	d := Deps{
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Pinger:   e.pinger,
		Verifier: &fakeVerifier{},
		Resolver: testResolver(),
	}
	if mod != nil {
		mod(&d)
	}
	if p, ok := d.Pinger.(*fakePinger); ok {
		e.pinger = p
	}
	e.srv = New(d)
	return e
}

// do serves one request in-process.
func (e *env) do(method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	return serveOne(e.srv, method, target, body, hdr...)
}

// serveOne serves one request in-process by srv; hdr are name, value pairs.
func serveOne(srv *Server, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	return w
}

// bearer is the header pair of a valid token of subject sub.
func bearer(sub string) []string { return []string{"Authorization", "Bearer " + token(sub)} }

// token is a token of subject sub that fakeVerifier accepts.
func token(sub string) string { return "good." + sub + ".sig" }

// waitFor receives from ch or fails after a generous bound (a hang, not a
// timing assertion).
func waitFor[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// countingResolver counts calls and resolves nothing.
type countingResolver struct{ n *int }

func (c countingResolver) ResolveAllowed(ctx context.Context, t target.Target, fam target.Family, p target.Checker) (netip.Addr, error) {
	*c.n++
	return netip.Addr{}, target.ErrNotFound
}

// metricsText returns what s serves at /metrics.
func (s *Server) metricsText(t testing.TB) string {
	t.Helper()
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("/metrics: status %d", w.Code)
	}
	return w.Body.String()
}

// listen serves e on a real HTTP server (the one serve runs: its timeouts
// and header limit) on a kernel-chosen loopback port and returns its base
// URL.
func (e *env) listen(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := e.srv.HTTPServer(ln.Addr().String())
	go hs.Serve(e.srv.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// TestMain keeps Gin quiet: it decides its mode before the testing flags
// exist, so under `go test` it would start in debug mode. Gin's mode is
// process-wide; tests set it here, once, as main does with UseReleaseMode.
// It stops the test PostgreSQL server if a test started one
// (esmond_backend_test.go).
func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	code := m.Run()
	pgServer.srv.Stop()
	os.Exit(code)
}

// call sends one request to the server at base over real HTTP, with a
// valid token and, when body is not nil, Content-Type: application/json,
// and returns the status and the body of the answer.
func call(t testing.TB, base, method, path string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token("a"))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// text is body as a request body; nil for "".
func text(body string) io.Reader {
	if body == "" {
		return nil
	}
	return strings.NewReader(body)
}
