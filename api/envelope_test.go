package api

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawHTTP sends req as raw bytes to the server at base (http://host:port)
// and returns its answer.
func rawHTTP(t *testing.T, base, req string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a hang, not a timing assertion
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v", req, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// envelopeCode returns the code of a JSON error envelope, failing the test
// when body is not one.
func envelopeCode(t *testing.T, resp *http.Response, body string) string {
	t.Helper()
	var b struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Errorf("not the error envelope: %q (%v)", body, err)
	}
	return b.Error.Code
}

// TestNetHTTPAnswersInEnvelope: the answers net/http writes itself, before
// any handler runs, carry the JSON envelope too.
func TestNetHTTPAnswersInEnvelope(t *testing.T) {
	e := newMonitorEnv(t, nil, nil)
	base := e.listen(t)
	tests := []struct {
		name, req string
		status    int
		code      string
	}{
		{"malformed request line", "GARBAGE\r\n\r\n", 400, CodeBadRequest},
		{"bad escape in the path", "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, CodeBadRequest},
		{"duplicate Content-Length", "POST /pingapi HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, CodeBadRequest},
		{"negative Content-Length", "POST /pingapi HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, CodeBadRequest},
		{"missing Host", "GET /healthz HTTP/1.1\r\n\r\n", 400, CodeBadRequest},
		{"1 MB Authorization header", "GET /pingapi/127.0.0.1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + strings.Repeat("a", 1<<20) + "\r\n\r\n", 431, CodeHeadersTooLarge},
		{"unknown transfer coding", "POST /pingapi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: zip\r\n\r\n", 501, CodeNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawHTTP(t, base, tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %q", resp.StatusCode, tt.status, body)
			}
			if code := envelopeCode(t, resp, body); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
		})
	}
	// The connection still works for a well-formed request.
	resp, body := rawHTTP(t, base, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
}

// TestNoPlainTextOrRedirects: the router's own 404s and redirects.
func TestNoPlainTextOrRedirects(t *testing.T) {
	e := newMonitorEnv(t, nil, nil)
	base := e.listen(t)
	auth := "Authorization: Bearer " + token("a") + "\r\n"
	tests := []struct {
		name, req string
		status    int
		code      string
	}{
		{"unknown file under /docs/", "GET /docs/nope.txt HTTP/1.1\r\nHost: x\r\n\r\n", 404, CodeNotFound},
		{"PUT with an escaped slash: no redirect of a write", "PUT /config/ip-list/127.0.0.1%2F HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 0\r\n\r\n", 404, CodeNotFound},
		{"DELETE with a trailing slash", "DELETE /config/ip-list/192.0.2.9/ HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", 404, CodeNotFound},
		{"GET /host/ with an empty name", "GET /host/?select= HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", 404, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawHTTP(t, base, tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (Location %q), want %d: %q", resp.StatusCode, resp.Header.Get("Location"), tt.status, body)
			}
			if code := envelopeCode(t, resp, body); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
		})
	}
	if _, mut := e.srv.deps.Monitor.IPList(); strings.Join(mut, ",") != "192.0.2.9" {
		t.Errorf("the mutable list changed: %q", mut)
	}
}

// TestHEAD: monitoring probes use HEAD; it answers as GET without a body.
func TestHEAD(t *testing.T) {
	e := newMonitorEnv(t, nil, nil)
	base := e.listen(t)
	for _, path := range []string{"/healthz", "/readyz", "/docs", "/docs/index.html", "/openapi.json", "/redoc", "/metrics"} {
		get, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, get.Body)
		get.Body.Close()
		head, err := http.Head(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(head.Body)
		head.Body.Close()
		if head.StatusCode != get.StatusCode || len(b) != 0 || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q (%d body bytes); GET: %d %q", path, head.StatusCode, head.Header.Get("Content-Type"), len(b),
				get.StatusCode, get.Header.Get("Content-Type"))
		}
	}
	// HEAD is not GET where GET does work: a measurement is not run for it.
	before := len(e.pinger.requests())
	req, _ := http.NewRequest("HEAD", base+"/pingapi/192.0.2.1?c=1", nil)
	req.Header.Set("Authorization", "Bearer "+token("a"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := len(e.pinger.requests()) - before; resp.StatusCode != 405 || n != 0 {
		t.Errorf("HEAD /pingapi: %d, %d measurements", resp.StatusCode, n)
	}
}

// TestOneErrorPath: the monitor's routes use the one writer, the one query
// parser and the one Content-Type rule of /pingapi.
func TestOneErrorPath(t *testing.T) {
	e := newMonitorEnv(t, nil, nil)
	base := e.listen(t)
	do := func(method, path, ctype, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token("a"))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, path := range []string{"/host?x=%zz", "/host/192.0.2.1?attr=name&c=1;x=2", "/config?%zz", "/match/192.0.2.1?select=%"} {
		resp, body := do("GET", path, "", "")
		if resp.StatusCode != 400 || envelopeCode(t, resp, body) != CodeInvalidParameter {
			t.Errorf("GET %s: %d %s, want 400 invalid_parameter like /pingapi", path, resp.StatusCode, body)
		}
	}
	for _, tt := range []struct {
		ctype  string
		status int
	}{
		{"application/json", 200},
		{"application/json; charset=utf-8", 200},
		{"application/vnd.pingapi+json", 200}, // /pingapi accepts +json too
		{"", 415},
		{"text/plain", 415},
	} {
		resp, body := do("POST", "/config/ip-list", tt.ctype, `["192.0.2.70"]`)
		if resp.StatusCode != tt.status {
			t.Errorf("POST Content-Type %q: %d, want %d: %s", tt.ctype, resp.StatusCode, tt.status, body)
		}
		if tt.status == 415 && envelopeCode(t, resp, body) != CodeUnsupportedMedia {
			t.Errorf("415 body %s", body)
		}
	}
	// /pingapi applies the same rule.
	resp, body := do("POST", "/pingapi", "", `{"ip":"192.0.2.1","c":1}`)
	if resp.StatusCode != 415 {
		t.Errorf("POST /pingapi without Content-Type: %d %s", resp.StatusCode, body)
	}
}
