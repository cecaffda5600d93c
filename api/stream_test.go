package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
)

// startStream opens a streaming request against a real HTTP server so
// flushing is observable.
func startStream(t *testing.T, ctx context.Context, srv *httptest.Server, method, path, body string, hdr ...string) *http.Response {
	t.Helper()
	var r *strings.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	var req *http.Request
	var err error
	if r != nil {
		req, err = http.NewRequestWithContext(ctx, method, srv.URL+path, r)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Each echo's line reaches the client before the next echo happens: the
// fake pinger holds echo i+1 until the test has read line i.
func TestStreamLinesArriveOneByOne(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      []string
	}{
		{"query", "GET", "/pingapi/192.0.2.1?c=3&stream=true", "", bearer("a")},
		{"accept", "GET", "/pingapi/192.0.2.1?c=3", "", append(bearer("a"), "Accept", "application/json;q=0.5, application/x-ndjson")},
		{"post", "POST", "/pingapi", `{"ip":"192.0.2.1","c":"3"}`, append(bearer("a"), "Content-Type", "application/json", "Accept", "application/x-ndjson")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gate := make(chan struct{})
			e := newEnv(t, func(d *Deps) {
				d.Pinger = &fakePinger{ready: true, gate: gate, rtts: []time.Duration{time.Millisecond, -1, 3 * time.Millisecond}}
			})
			srv := httptest.NewServer(e.srv.Handler())
			defer srv.Close()
			resp := startStream(t, context.Background(), srv, tc.method, tc.path, tc.body, tc.hdr...)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" ||
				resp.Header.Get("X-Accel-Buffering") != "no" {
				t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
			}
			rd := bufio.NewReader(resp.Body)
			for seq := 0; seq < 3; seq++ {
				gate <- struct{}{}
				var line map[string]any
				readLine(t, rd, &line)
				if line["type"] != "packet" || line["seq"] != float64(seq) {
					t.Fatalf("line %d: %v", seq, line)
				}
				if seq == 1 && line["rtt"] != nil {
					t.Errorf("lost echo has rtt %v", line["rtt"])
				}
			}
			var sum map[string]any
			readLine(t, rd, &sum)
			if sum["type"] != "summary" || sum["count_received"] != 2.0 || sum["count_requested"] != 3.0 || sum["ip"] != "192.0.2.1" {
				t.Fatalf("summary %v", sum)
			}
			if _, err := rd.ReadByte(); err == nil {
				t.Error("data after the summary line")
			}
		})
	}
}

// An engine failure after the headers were sent ends the stream with an
// error line in the envelope's shape.
func TestStreamErrorLine(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.Pinger = &fakePinger{ready: true, rtts: []time.Duration{time.Millisecond}, err: errors.New("socket closed")}
	})
	srv := httptest.NewServer(e.srv.Handler())
	defer srv.Close()
	resp := startStream(t, context.Background(), srv, "GET", "/pingapi/192.0.2.1?c=3&stream=1", "", bearer("a")...)
	rd := bufio.NewReader(resp.Body)
	var pkt, last streamError
	readLine(t, rd, &pkt)
	readLine(t, rd, &last)
	if pkt.Type != "packet" || last.Type != "error" || last.Error.Code != CodeProbeUnavailable || last.Error.Message == "" {
		t.Fatalf("lines %+v %+v", pkt, last)
	}
	if strings.Contains(last.Error.Message, "socket closed") {
		t.Error("internal error text leaked to the client")
	}
}

// Errors found before the measurement starts are ordinary JSON errors,
// even when streaming was asked for.
func TestStreamEarlyErrorIsJSON(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do("GET", "/pingapi/127.0.0.1?stream=true", "", bearer("a")...)
	if w.Code != 403 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d %s", w.Code, w.Header())
	}
}

// A client that disconnects cancels its measurement: the fake pinger sees
// its context done, and the measurement is counted as cancelled.
func TestClientDisconnectCancels(t *testing.T) {
	for _, path := range []string{"/pingapi/192.0.2.1?c=59", "/pingapi/192.0.2.1?c=59&stream=true"} {
		t.Run(path, func(t *testing.T) {
			started := make(chan probe.Request, 1)
			done := make(chan error, 1)
			e := newEnv(t, func(d *Deps) {
				d.Pinger = &fakePinger{ready: true, gate: make(chan struct{}), started: started, done: done}
			})
			srv := httptest.NewServer(e.srv.Handler())
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+token("a"))
				if resp, err := srv.Client().Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body) // until the cancel cuts it
					resp.Body.Close()
				}
			}()
			waitFor(t, started, "the measurement to start")
			if n := e.srv.InFlight(); n != 1 {
				t.Errorf("InFlight = %d, want 1", n)
			}
			cancel()
			if err := waitFor(t, done, "the measurement to end"); !errors.Is(err, context.Canceled) {
				t.Fatalf("pinger ctx err %v", err)
			}
			srv.Close() // waits for the handler to return
			if n := e.srv.InFlight(); n != 0 {
				t.Errorf("InFlight after cancel = %d", n)
			}
			m := e.srv.metricsText(t)
			if !strings.Contains(m, `pingapi_measurements_total{result="cancelled"} 1`) {
				t.Errorf("cancelled not counted:\n%s", m)
			}
			// The plain GET had not answered yet: a client that hung up is
			// 499, not a server error. The stream had already sent its 200.
			want := `status="499"} 1`
			if strings.Contains(path, "stream") {
				want = `status="200"} 1`
			}
			if !strings.Contains(m, want) || strings.Contains(m, `status="503"`) {
				t.Errorf("http_requests_total: want %s and no 503:\n%s", want, m)
			}
		})
	}
}

func readLine(t *testing.T, rd *bufio.Reader, v any) {
	t.Helper()
	b, err := rd.ReadBytes('\n')
	if err != nil {
		t.Fatalf("reading line: %v (got %q)", err, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("line %q: %v", b, err)
	}
}
