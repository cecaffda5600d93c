package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/target"
)

// fuzzResolver resolves every name at once (no network, no waiting): names
// starting with "nx" do not exist, others have 192.0.2.1 and 2001:db8::1.
func fuzzResolver() *target.Resolver {
	return &target.Resolver{Lookup: func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		if strings.HasPrefix(host, "nx") {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		switch network {
		case "ip4":
			return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil
		case "ip6":
			return []netip.Addr{netip.MustParseAddr("2001:db8::1")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}, nil
	}}
}

// Whatever a client sends in the path, the query, the headers or the POST
// body, the answer is never a 5xx, and every 4xx is the error envelope.
func FuzzRequest(f *testing.F) {
	seeds := []struct {
		target, query, contentType, accept string
		body                               []byte
	}{
		{"192.0.2.1", "c=5", "application/json", "", []byte(`{"ip":"192.0.2.1","c":5}`)},
		{"example.com", "c=59&family=4&packets=true", "application/json", "application/x-ndjson", []byte(`{"ip":"example.com","c":"5"}`)},
		{"2001:db8::1", "c=0&stream=1", "application/json; charset=utf-8", "", []byte(`{"ip":"::1","c":"60","family":"6"}`)},
		{"127.0.0.1", "c=abc&family=9", "text/plain", "*/*", []byte(`{"ip":`)},
		{"a b;rm -rf /", "access_token=x", "", "", []byte(`[]`)},
		{"nx.example", "c=99999999999999999999", "application/ld+json", "application/x-ndjson;q=0", []byte(`{"ip":"nx.example","c":1e400}`)},
		{"%00", "c=%00&packets=%ff", "application/json", "", []byte("{\"ip\":\"\xff\",\"c\":-0}{}")},
		{"fe80::1%eth0", "stream=true&c=1", "application/json", "", []byte(`{"ip":"10.0.0.1","c":null,"packets":"yes"}`)},
	}
	for _, s := range seeds {
		f.Add(s.target, s.query, s.contentType, s.accept, s.body)
	}
	e := newEnv(f, func(d *Deps) {
		d.Logger = slog.New(slog.DiscardHandler)
		d.Resolver = fuzzResolver()
		d.Pinger = &fakePinger{ready: true, rtts: []time.Duration{time.Millisecond}}
		d.MaxConcurrentPerSubject = 1 << 20
	})
	f.Fuzz(func(t *testing.T, tgt, query, contentType, accept string, body []byte) {
		for _, method := range []string{"GET", "POST"} {
			req := httptest.NewRequest(method, "/", strings.NewReader(string(body)))
			req.URL = &url.URL{Path: "/pingapi/" + tgt, RawQuery: query}
			if method == "POST" {
				req.URL.Path = "/pingapi"
			}
			req.Header.Set("Authorization", "Bearer "+token("fuzz"))
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Accept", accept)
			w := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(w, req)
			switch {
			case w.Code >= 500:
				t.Fatalf("%s %q ?%q body %q: status %d %s", method, tgt, query, body, w.Code, w.Body)
			case w.Code >= 400:
				decodeEnvelope(t, w.Body.Bytes())
			case w.Code == 200 && w.Header().Get("Content-Type") == "application/x-ndjson":
				for _, line := range strings.Split(strings.TrimSpace(w.Body.String()), "\n") {
					if !json.Valid([]byte(line)) {
						t.Fatalf("invalid NDJSON line %q", line)
					}
				}
			case w.Code == 200:
				if !json.Valid(w.Body.Bytes()) {
					t.Fatalf("invalid JSON %q", w.Body)
				}
			}
		}
	})
}
