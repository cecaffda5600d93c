package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pingapi/pingapi/api"
	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/probe"
)

// idlePinger is never asked to ping: the benchmarks stop at validation.
type idlePinger struct{}

func (idlePinger) Ping(context.Context, probe.Request, func(probe.Packet)) (probe.Result, error) {
	return probe.Result{}, errors.New("not in this benchmark")
}
func (idlePinger) Ready() bool { return true }

// BenchmarkHandler measures the CPU cost of one request through the real
// router, in process (no TCP), so that it is robust to other load on the
// machine: the difference between "valid token" and "no token" is the cost
// of JWT validation (RS256 with the dev issuer's 2048-bit key).
func BenchmarkHandler(b *testing.B) {
	dev, err := auth.LoadOrCreateDev(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	v, err := auth.NewDevVerifier(dev)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	tok, err := dev.Mint("bench", time.Hour, auth.DefaultDevScopes)
	if err != nil {
		b.Fatal(err)
	}
	api.UseReleaseMode() // as serve runs it
	h := api.New(api.Deps{Pinger: idlePinger{}, Verifier: v}).Handler()
	cases := []struct {
		name, path, token string
		want              int
	}{
		{"healthz", "/healthz", "", 200},
		{"no token 401", "/pingapi/127.0.0.1?c=0", "", 401},
		{"bad signature 401", "/pingapi/127.0.0.1?c=0", tok[:len(tok)-2] + "AA", 401},
		{"valid token 422", "/pingapi/127.0.0.1?c=0", tok, 422},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, bc.path, nil)
			if bc.token != "" {
				req.Header.Set("Authorization", "Bearer "+bc.token)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != bc.want {
					b.Fatalf("status %d, want %d: %s", w.Code, bc.want, w.Body)
				}
			}
		})
	}
}
