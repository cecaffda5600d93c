package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/internal/testcert"
	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/config"
	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// poll calls cond until it holds, failing after a generous bound.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// getJSON GETs url with token into v and returns the status.
func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// TestServeTCPEcho: `pingapi serve` with TCPECHO_LISTEN and
// TCPECHO_TLS_LISTEN accepts the seed's `socat TCP:... EXEC:cat` client and
// `pingapi agent --tls` with a dev token carrying echo:agent, lists both in
// GET /tcpecho/clients, and archives their echoes as esmond data.
func TestServeTCPEcho(t *testing.T) {
	serveNeedsRoot(t)
	if _, err := exec.LookPath("socat"); err != nil {
		netlab.Unavailable(t, "needs socat")
	}
	dir := t.TempDir()
	cert := testcert.New(t)
	env := map[string]string{
		"TCPECHO_LISTEN": "127.0.0.1:0", "TCPECHO_TLS_LISTEN": "127.0.0.1:0",
		"TCPECHO_TLS_CERT": cert.CertFile, "TCPECHO_TLS_KEY": cert.KeyFile,
		"TCPECHO_INTERVAL": "100ms", "TCPECHO_TIMEOUT": "500ms", "TCPECHO_WINDOW": "1s",
	}
	empty := filepath.Join(dir, "empty.env")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load([]string{"--env-file", empty, "--listen", "127.0.0.1:0", "--data-dir", dir},
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan int, 1)
	go func() { done <- serve(ctx, nil, cfg, logs, func(a net.Addr) { addrc <- a }) }()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case code := <-done:
		t.Fatalf("serve exited with %d:\n%s", code, logs)
	}
	defer func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	}()
	find := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(logs.String())
		if m == nil {
			t.Fatalf("no %q in the log:\n%s", re, logs)
		}
		return m[1]
	}
	plain := find(`msg="tcp echo listening"[^\n]*? addr=(127\.0\.0\.1:\d+)`)
	tlsAddr := find(`msg="tcp echo listening for agents \(TLS\)"[^\n]*? addr=(127\.0\.0\.1:\d+)`)

	sc := exec.Command("socat", "TCP:"+plain, "EXEC:cat")
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sc.Process.Kill(); _ = sc.Wait() }()

	dev, err := auth.LoadOrCreateDev(dir)
	if err != nil {
		t.Fatal(err)
	}
	agentTok, err := dev.Mint("agent-a", time.Hour, []string{tcpecho.DefaultAgentScope})
	if err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(dir, "agent.token")
	if err := os.WriteFile(tokFile, []byte(agentTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(context.Background())
	adone := make(chan int, 1)
	agentLog := &lockedBuffer{}
	go func() {
		adone <- agentMain(actx, []string{"--server", tlsAddr, "--tls", "--token-file", tokFile, "--name", "site-a", "--ca-file", cert.CertFile}, agentLog)
	}()
	defer func() { acancel(); <-adone }()

	readTok, err := dev.Mint("reader", time.Hour, auth.DefaultDevScopes)
	if err != nil {
		t.Fatal(err)
	}
	var clients []tcpecho.Client
	poll(t, "the socat client and the agent with 3 echoes each", func() bool {
		clients = nil
		if getJSON(t, base+"/tcpecho/clients?state=connected", readTok, &clients) != 200 || len(clients) != 2 {
			return false
		}
		for _, c := range clients {
			if c.Received < 3 || c.Kernel == nil {
				return false
			}
		}
		return true
	})
	modes := map[string]string{}
	for _, c := range clients {
		modes[c.Mode] = c.Key
	}
	if modes["tls"] != "site-a" || modes["plain"] == "" {
		t.Errorf("clients %+v: want a plain one and the TLS agent site-a", clients)
	}
	if code := getJSON(t, base+"/tcpecho/clients", "", nil); code != 401 {
		t.Errorf("without a token: %d, want 401", code)
	}

	// The archive: one metadata record per client, with RTT histograms.
	type md struct {
		Key        string `json:"metadata-key"`
		Dest       string `json:"input-destination"`
		Transport  string `json:"ip-transport-protocol"`
		EventTypes []struct {
			Name string `json:"event-type"`
			Base string `json:"base-uri"`
		} `json:"event-types"`
	}
	var mds []md
	poll(t, "both clients' RTT histograms in the archive", func() bool {
		mds = nil
		if getJSON(t, base+"/esmond/perfsonar/archive/?tool-name="+tcpecho.ArchiveTool, "", &mds) != 200 || len(mds) != 2 {
			return false
		}
		for _, m := range mds {
			for _, e := range m.EventTypes {
				if e.Name == "histogram-rtt" {
					var pts []json.RawMessage
					if getJSON(t, base+e.Base, "", &pts) != 200 || len(pts) == 0 {
						return false
					}
				}
			}
		}
		return true
	})
	for _, m := range mds {
		if m.Transport != "tcp" || (m.Dest != "site-a" && m.Dest != "127.0.0.1") {
			t.Errorf("metadata %+v", m)
		}
	}
}
