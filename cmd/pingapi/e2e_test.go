package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// e2eProcess is the real pingapi binary running `serve` in dev mode.
type e2eProcess struct {
	cmd     *exec.Cmd
	bin     string
	dataDir string
	base    string // http://127.0.0.1:PORT

	mu     sync.Mutex
	stderr strings.Builder
	exited chan error
}

func (p *e2eProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// waitLog reports whether the server's output contains s, waiting up to
// timeout for it: the dev-mode banner is written after the "listening"
// line that startE2E waits for, and may reach the pipe after /readyz
// answers.
func (p *e2eProcess) waitLog(s string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.log(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond) // polling, not an assertion on time
	}
	return true
}

// startE2E builds the binary into a temporary directory and starts
// `pingapi serve` on a free loopback port with an empty environment (PATH
// only) and a fresh data directory.
func startE2E(t *testing.T) *e2eProcess { t.Helper(); return startE2EWith(t, nil) }

// startE2EWith is startE2E with more environment variables (KEY=VALUE) and
// serve arguments after "--".
func startE2EWith(t *testing.T, env []string, args ...string) *e2eProcess {
	t.Helper()
	serveNeedsRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "pingapi")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p := &e2eProcess{bin: bin, dataDir: filepath.Join(dir, "data"), exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", p.dataDir}, args...)...)
	p.cmd.Dir = dir // no .env here
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("server log:\n%s", p.log())
		}
	})
	addrc := make(chan string, 1)
	go func() {
		listening := regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		p.exited <- p.cmd.Wait()
		close(addrc)
	}()
	addr, ok := <-addrc
	if !ok {
		t.Fatalf("server exited before listening:\n%s", p.log())
	}
	p.base = "http://" + addr
	// Wait for readiness: bounded by a deadline, not a measured duration.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/readyz never became ready:\n%s", p.log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// token runs `pingapi token --data-dir` against the server's data directory.
func (p *e2eProcess) token(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(p.bin, "token", "--data-dir", p.dataDir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pingapi token: %v", err)
	}
	tok := strings.TrimSpace(string(out))
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("pingapi token printed %q, not a JWT", tok)
	}
	return tok
}

func (p *e2eProcess) do(t *testing.T, method, path, token, body string, hdr ...string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// e2eSummary holds the response fields the test checks.
type e2eSummary struct {
	Type           string   `json:"type"`
	IPHost         string   `json:"ip_host"`
	IP             string   `json:"ip"`
	CountRequested int      `json:"count_requested"`
	CountReceived  int      `json:"count_received"`
	PacketLoss     *float64 `json:"packet_loss"`
	RTTMin         *float64 `json:"rtt_min"`
	RTTMean        *float64 `json:"rtt_mean"`
	RTTMax         *float64 `json:"rtt_max"`
	FinishedAt     string   `json:"finished_at"`
	Error          *struct {
		Code string `json:"code"`
	} `json:"error"`
}

func checkSummary(t *testing.T, what string, s e2eSummary, count int) {
	t.Helper()
	if s.IPHost != "127.0.0.1" || s.IP != "127.0.0.1" || s.CountRequested != count || s.CountReceived != count {
		t.Errorf("%s: %+v; want ip_host=ip=127.0.0.1, %d requested and received", what, s, count)
	}
	if s.PacketLoss == nil || *s.PacketLoss != 0 {
		t.Errorf("%s: packet_loss %v, want 0", what, s.PacketLoss)
	}
	if s.RTTMin == nil || s.RTTMean == nil || s.RTTMax == nil {
		t.Fatalf("%s: missing rtt fields: %+v", what, s)
	}
	if !(0 < *s.RTTMin && *s.RTTMin <= *s.RTTMean && *s.RTTMean <= *s.RTTMax) {
		t.Errorf("%s: want 0 < rtt_min <= rtt_mean <= rtt_max, got %v %v %v", what, *s.RTTMin, *s.RTTMean, *s.RTTMax)
	}
}

func decode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", resp.Request.URL, err)
	}
}

// TestE2E runs the real binary in dev mode and measures 127.0.0.1 through
// GET, POST and streaming, checks the auth and policy refusals, and stops
// it with SIGTERM.
func TestE2E(t *testing.T) {
	p := startE2E(t)
	if !p.waitLog(`curl -H "Authorization: Bearer `, 10*time.Second) {
		t.Errorf("no ready-to-paste curl line in the dev-mode output")
	}
	tok := p.token(t)

	t.Run("GET", func(t *testing.T) {
		resp := p.do(t, "GET", "/pingapi/127.0.0.1?c=2", tok, "")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var s e2eSummary
		decode(t, resp, &s)
		checkSummary(t, "GET", s, 2)
	})

	t.Run("POST", func(t *testing.T) {
		resp := p.do(t, "POST", "/pingapi", tok, `{"ip":"127.0.0.1","c":"2"}`)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var s e2eSummary
		decode(t, resp, &s)
		checkSummary(t, "POST", s, 2)
	})

	t.Run("stream", func(t *testing.T) {
		resp := p.do(t, "GET", "/pingapi/127.0.0.1?c=3", tok, "", "Accept", "application/x-ndjson")
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		sc := bufio.NewScanner(resp.Body)
		var packets int
		var firstAt time.Time
		var sum e2eSummary
		for sc.Scan() {
			var line e2eSummary
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("bad line %q: %v", sc.Bytes(), err)
			}
			switch line.Type {
			case "packet":
				if packets == 0 {
					firstAt = time.Now()
				}
				packets++
			case "summary":
				sum = line
			default:
				t.Fatalf("unexpected line %s", sc.Bytes())
			}
		}
		if packets < 2 || sum.Type != "summary" {
			t.Fatalf("%d packet lines and summary %+v; want >= 2 and a summary", packets, sum)
		}
		checkSummary(t, "stream", sum, 3)
		// The first line reached us before the measurement ended: lines are
		// flushed one by one, not buffered until the summary.
		fin, err := time.Parse(time.RFC3339Nano, sum.FinishedAt)
		if err != nil || !firstAt.Before(fin) {
			t.Errorf("first packet line read at %v, measurement finished at %q: not streamed", firstAt, sum.FinishedAt)
		}
	})

	t.Run("401 without token", func(t *testing.T) {
		resp := p.do(t, "GET", "/pingapi/127.0.0.1?c=1", "", "")
		var e e2eSummary
		decode(t, resp, &e)
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) || e.Error == nil {
			t.Errorf("status %d, WWW-Authenticate %q, body %+v", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), e)
		}
	})

	t.Run("403 denied target", func(t *testing.T) {
		resp := p.do(t, "GET", "/pingapi/224.0.0.1?c=1", tok, "") // multicast: always denied, nothing sent
		var e e2eSummary
		decode(t, resp, &e)
		if resp.StatusCode != 403 || e.Error == nil {
			t.Errorf("status %d, body %+v", resp.StatusCode, e)
		}
	})

	t.Run("docs", func(t *testing.T) {
		for _, path := range []string{"/openapi.json", "/docs/index.html", "/redoc", "/.well-known/jwks.json"} {
			resp := p.do(t, "GET", path, "", "")
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s: status %d", path, resp.StatusCode)
			}
		}
	})

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
		p.exited <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}
	if !strings.Contains(p.log(), "msg=stopped") {
		t.Errorf("no clean-stop log line")
	}
}
