package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// forge returns a token that names kid and carries valid claims at now, with
// a signature that is garbage: an attacker needs no key to send one, and the
// kid is looked up before any signature is checked.
func forge(t testing.TB, kid string, now time.Time) string {
	t.Helper()
	head, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	body, err := json.Marshal(validClaimsAt(now))
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(head) + "." + enc(body) + "." + enc(make([]byte, 256))
}

// TestRotationUnderForgedKIDs is the attack of issue 12: an anonymous client
// sends tokens with random kids (a steady stream, 5 a second) while the
// issuer rotates to a new key. The genuine new key must be accepted within
// a minute of appearing in the key set, and the forged kids must not turn
// into a flood of key-set fetches. The clock is injected; the key endpoint
// is a real HTTP server.
func TestRotationUnderForgedKIDs(t *testing.T) {
	k1, k2 := newTestKey(t, "k1"), newTestKey(t, "k2")
	srv := newJWKSServer(t, k1)
	clk := &fakeClock{now: t0}
	v := newTestVerifier(t, srv, clk, nil) // the defaults, as serve runs them
	waitFor(t, "keys", v.Ready)
	ctx := context.Background()
	base := srv.requests.Load()

	const (
		seconds   = 600 // ten minutes of attack
		perSecond = 5
		rotateAt  = 137 // the issuer publishes k2 (and its clients start using it)
	)
	accepted := -1
	forged := 0
	for s := 1; s <= seconds; s++ {
		clk.Advance(time.Second)
		for i := range perSecond {
			forged++
			if _, err := v.Verify(ctx, forge(t, fmt.Sprintf("forged-%d-%d", s, i), clk.Now())); Reason(err) != ReasonUnknownKID {
				t.Fatalf("forged kid at %d s: %v", s, err)
			}
		}
		if s == rotateAt {
			srv.setKeys(k1, k2)
		}
		if s >= rotateAt && accepted < 0 {
			if _, err := v.Verify(ctx, sign(t, k2, validClaimsAt(clk.Now()))); err == nil {
				accepted = s
			}
		}
	}
	if accepted < 0 || accepted-rotateAt > 60 {
		t.Errorf("the rotated key was published at %d s and first accepted at %d s (want within 60 s)", rotateAt, accepted)
	}
	fetches := srv.requests.Load() - base
	// One fetch per minimum interval at most, and far fewer than the forgeries.
	if limit := int64(seconds/DefaultUnknownKIDInterval.Seconds()) + 2; fetches > limit {
		t.Errorf("%d forged tokens caused %d key-set fetches, want at most %d", forged, fetches, limit)
	}
	t.Logf("%d forged tokens, %d fetches, k2 accepted %d s after publication", forged, fetches, accepted-rotateAt)
}

// TestUnknownKIDNegativeCache: the same unknown kid replayed does not fetch
// the key set again while it is known to be absent.
func TestUnknownKIDNegativeCache(t *testing.T) {
	k1 := newTestKey(t, "k1")
	srv := newJWKSServer(t, k1)
	clk := &fakeClock{now: t0}
	v := newTestVerifier(t, srv, clk, nil)
	waitFor(t, "keys", v.Ready)
	base := srv.requests.Load()
	for range 300 { // five minutes, one replay a second
		clk.Advance(time.Second)
		if _, err := v.Verify(context.Background(), forge(t, "ghost", clk.Now())); Reason(err) != ReasonUnknownKID {
			t.Fatal(err)
		}
	}
	fetches := srv.requests.Load() - base
	if limit := int64(300/DefaultNegativeKIDTTL.Seconds()) + 1; fetches > limit {
		t.Errorf("one kid replayed 300 times caused %d fetches, want at most %d", fetches, limit)
	}
}
