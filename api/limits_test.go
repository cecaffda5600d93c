package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
)

// blockedEnv serves through a real server with a pinger that blocks every
// measurement until gate is closed.
type blockedEnv struct {
	*env
	srv     *httptest.Server
	started chan probe.Request
	gate    chan struct{}
	results chan response
}

type response struct {
	status int
	hdr    http.Header
}

func newBlockedEnv(t *testing.T, global, perSubject int, now func() time.Time) *blockedEnv {
	b := &blockedEnv{started: make(chan probe.Request, 16), gate: make(chan struct{}), results: make(chan response, 16)}
	b.env = newEnv(t, func(d *Deps) {
		d.Pinger = &fakePinger{ready: true, gate: b.gate, started: b.started}
		d.MaxConcurrent, d.MaxConcurrentPerSubject, d.Now = global, perSubject, now
	})
	b.srv = httptest.NewServer(b.env.srv.Handler())
	t.Cleanup(func() {
		select {
		case <-b.gate:
		default:
			close(b.gate)
		}
		b.srv.Close()
	})
	return b
}

// start launches a measurement of sub in the background and waits until it
// runs.
func (b *blockedEnv) start(t *testing.T, sub string, c int) {
	t.Helper()
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", b.srv.URL+"/pingapi/192.0.2.1?c="+strconv.Itoa(c), nil)
		req.Header.Set("Authorization", "Bearer "+token(sub))
		resp, err := b.srv.Client().Do(req)
		if err != nil {
			b.results <- response{status: -1}
			return
		}
		resp.Body.Close()
		b.results <- response{resp.StatusCode, resp.Header}
	}()
	waitFor(t, b.started, "measurement of "+sub)
}

func TestConcurrencyLimits(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return t0 }
	tests := []struct {
		name           string
		global, perSub int
		running        []string // subjects already measuring (c=10)
		next           string
		wantStatus     int
		wantLimit      string
		wantRemaining  string
		wantRetry      string
	}{
		{"per subject cap", 10, 2, []string{"alice", "alice"}, "alice", 429, "2", "0", "11"},
		{"other subject fine", 10, 2, []string{"alice", "alice"}, "bob", 200, "2", "1", ""},
		{"global cap", 3, 2, []string{"alice", "bob", "carol"}, "dave", 429, "3", "0", "11"},
		{"under both caps", 3, 2, []string{"alice"}, "alice", 200, "2", "0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBlockedEnv(t, tt.global, tt.perSub, now)
			for _, sub := range tt.running {
				b.start(t, sub, 10)
			}
			if tt.wantStatus == 200 {
				got := make(chan *httptest.ResponseRecorder, 1)
				go func() { got <- b.do("GET", "/pingapi/192.0.2.1?c=1", "", bearer(tt.next)...) }()
				waitFor(t, b.started, "the admitted measurement")
				close(b.gate)
				w := waitFor(t, got, "the admitted measurement's answer")
				if w.Code != 200 || w.Header().Get("RateLimit-Limit") != tt.wantLimit ||
					w.Header().Get("RateLimit-Remaining") != tt.wantRemaining || w.Header().Get("RateLimit-Reset") != "0" {
					t.Fatalf("status %d headers %v", w.Code, w.Header())
				}
				return
			}
			w := b.do("GET", "/pingapi/192.0.2.1?c=1", "", bearer(tt.next)...)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if d := decodeEnvelope(t, w.Body.Bytes()); d.Code != CodeTooManyRequests {
				t.Errorf("code %q", d.Code)
			}
			h := w.Header()
			if h.Get("RateLimit-Limit") != tt.wantLimit || h.Get("RateLimit-Remaining") != tt.wantRemaining ||
				h.Get("Retry-After") != tt.wantRetry || h.Get("RateLimit-Reset") != tt.wantRetry {
				t.Errorf("headers %v", h)
			}
			close(b.gate)
			for range tt.running {
				if r := waitFor(t, b.results, "result"); r.status != 200 {
					t.Errorf("running measurement ended %d", r.status)
				}
			}
			if n := b.env.srv.InFlight(); n != 0 {
				t.Errorf("InFlight %d after all ended", n)
			}
		})
	}
}

// Slots free up when measurements end, and an admitted request reports the
// slots left.
func TestLimiterSlots(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	l := newLimiter(3, 2, func() time.Time { return clock })
	r1, st, ok := l.acquire("a", 10*time.Second)
	if !ok || st.limit != 2 || st.remaining != 1 {
		t.Fatalf("first: %v %+v", ok, st)
	}
	r2, _, ok := l.acquire("a", 4*time.Second)
	if !ok {
		t.Fatal("second refused")
	}
	clock = t0.Add(1500 * time.Millisecond)
	if _, st, ok := l.acquire("a", time.Second); ok || st.reset != 3 || st.scope != "subject" {
		t.Fatalf("third: %v %+v (want reset 3: the 4 s slot ends in 2.5 s)", ok, st)
	}
	r3, st, ok := l.acquire("b", time.Second)
	if !ok || st.remaining != 0 {
		t.Fatalf("b: %v %+v (global has no slot left after this)", ok, st)
	}
	if _, st, ok := l.acquire("c", time.Second); ok || st.scope != "global" || st.reset != 1 {
		t.Fatalf("c: %v %+v", ok, st)
	}
	r2()
	r2() // idempotent
	if l.inFlight() != 2 {
		t.Fatalf("inFlight %d", l.inFlight())
	}
	if _, _, ok := l.acquire("a", time.Second); !ok {
		t.Fatal("slot not freed")
	}
	r1()
	r3()
}
