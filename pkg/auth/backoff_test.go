package auth

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// scriptedTransport answers key-set fetches in memory: failures until
// upAfter fetches, then the key set. It records the (fake) time of each.
type scriptedTransport struct {
	mu      sync.Mutex
	upAfter int
	body    []byte
	times   []time.Time
}

func (s *scriptedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times = append(s.times, time.Now())
	if len(s.times) <= s.upAfter {
		return nil, errors.New("connection refused")
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader(s.body)), Request: r}, nil
}

func (s *scriptedTransport) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g []time.Duration
	for i := 1; i < len(s.times); i++ {
		g = append(g, s.times[i].Sub(s.times[i-1]))
	}
	return g
}

// TestBackoffSchedule checks, on synctest's fake clock, that failed fetches
// are retried after MinBackoff doubling up to MaxBackoff (±20 % jitter), and
// that after a success the next fetch waits RefreshInterval.
func TestBackoffSchedule(t *testing.T) {
	k := newTestKey(t, "k1")
	synctest.Test(t, func(t *testing.T) {
		tr := &scriptedTransport{upAfter: 6, body: jwksJSON(k)}
		v, err := New(Config{
			JWKSURL: "https://issuer.test/jwks.json", Issuer: testIssuer, Audience: testAudience,
			HTTPClient: &http.Client{Transport: tr},
			MinBackoff: time.Second, MaxBackoff: 8 * time.Second, RefreshInterval: time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Hour) // fake time: the loop runs its course
		synctest.Wait()
		if !v.Ready() {
			t.Fatal("not ready after the endpoint came up")
		}
		v.Close()
		want := []time.Duration{1, 2, 4, 8, 8, 8} // seconds, failures 1..6 then success
		gaps := tr.gaps()
		if len(gaps) < len(want)+1 {
			t.Fatalf("fetch gaps %v: too few fetches", gaps)
		}
		for i, w := range want {
			lo, hi := w*time.Second*4/5, w*time.Second*6/5
			if gaps[i] < lo || gaps[i] > hi {
				t.Errorf("gap %d = %v, want %v ±20%%", i, gaps[i], w*time.Second)
			}
		}
		if g := gaps[len(want)]; g != time.Hour {
			t.Errorf("gap after success = %v, want the refresh interval 1h", g)
		}
	})
}
