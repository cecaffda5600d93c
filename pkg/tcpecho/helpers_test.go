package tcpecho

import (
	"context"
	"net"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/pkg/target"
)

// Test timing: short intervals so tests take a second or two. Waits poll
// for a condition with a generous deadline; nothing asserts on how long a
// real sleep took.
// The timeout is generous (8 intervals) and clients may be silent for 2 s
// before they are dropped, so that a loaded machine does not lose echoes.
const (
	testInterval = 50 * time.Millisecond
	testTimeout  = 400 * time.Millisecond
	testSilent   = 40
	waitLimit    = 20 * time.Second
)

// startServer runs a Server on a loopback listener with the dev policy
// (loopback allowed) unless opts sets one. It returns the server and the
// listener's address; everything stops at cleanup.
func startServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.Interval == 0 {
		opts.Interval = testInterval
	}
	if opts.Timeout == 0 {
		opts.Timeout = testTimeout
	}
	if opts.Window == 0 {
		opts.Window = time.Second
	}
	if opts.SilentIntervals == 0 {
		opts.SilentIntervals = testSilent
	}
	if opts.Policy == nil {
		opts.Policy = target.DevPolicy()
	}
	s, ln := newOnLoopback(t, opts)
	serveUntil(t, s, ln, s.Serve)
	return s, ln.Addr().String()
}

// newOnLoopback returns a Server of opts and a loopback listener for it.
func newOnLoopback(t *testing.T, opts Options) (*Server, net.Listener) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return s, ln
}

// serveUntil runs serve (s.Serve, or a closure over s.ServeTLS) on ln
// until the returned stop, which cleanup calls too: stop cancels serve,
// reports its error and closes s.
func serveUntil(t *testing.T, s *Server, ln net.Listener, serve func(context.Context, net.Listener) error) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.Close()
	})
	t.Cleanup(stop)
	return stop
}

// requireSocat skips (fails under CI=true) without socat.
func requireSocat(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("socat"); err != nil {
		netlab.Unavailable(t, "socat not installed; scripts/install-deps.sh installs it")
	}
}

// socat starts the seed's trivial client, `socat TCP:addr EXEC:cat`,
// optionally inside a network namespace, and stops it at cleanup.
func socat(t *testing.T, addr string, netns string) *exec.Cmd {
	t.Helper()
	requireSocat(t)
	args := []string{"TCP:" + addr, "EXEC:cat"}
	cmd := exec.Command("socat", args...)
	if netns != "" {
		cmd = exec.Command("ip", append([]string{"netns", "exec", netns, "socat"}, args...)...)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// waitFor polls cond until it holds or waitLimit passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clientByLocal returns the server's view of the client whose remote
// address is local (the client socket's own address).
func clientByLocal(s *Server, local string) (Client, bool) {
	for _, c := range s.Clients() {
		if c.Address == local {
			return c, true
		}
	}
	return Client{}, false
}

// connected returns the connected clients.
func connected(s *Server) []Client {
	var out []Client
	for _, c := range s.Clients() {
		if c.State == "connected" {
			out = append(out, c)
		}
	}
	return out
}

// windowSink collects windows.
type windowSink struct {
	mu sync.Mutex
	ws []Window
}

func (w *windowSink) Window(_ context.Context, win Window) {
	w.mu.Lock()
	w.ws = append(w.ws, win)
	w.mu.Unlock()
}

func (w *windowSink) all() []Window {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Window(nil), w.ws...)
}
