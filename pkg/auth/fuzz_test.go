package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary tokens to a dev Verifier: it must never panic,
// every rejection must wrap ErrInvalidToken with a known reason, and only
// tokens signed by the dev key may pass.
func FuzzVerify(f *testing.F) {
	d, err := LoadOrCreateDev(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	good, err := d.Mint("dev", time.Hour, DefaultDevScopes)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, s := range []string{
		good, parts[0] + "." + parts[1] + ".", parts[0] + ".e30." + parts[2], "a.b.c", "", "..",
		"eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJSUzI1NiIsImtpZCI6MX0.e30.AA",
		parts[0] + ".eyJzY29wZSI6WzFdfQ." + parts[2],
	} {
		f.Add(s)
	}
	v, err := NewDevVerifier(d)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(v.Close)
	known := map[string]bool{}
	for r := range publicMessages {
		known[r] = true
	}
	known[ReasonInvalid] = true
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(context.Background(), tok)
		if err == nil {
			if c == nil || c.Subject != "dev" {
				t.Fatalf("accepted %q with claims %+v", tok, c)
			}
			return
		}
		if !errors.Is(err, ErrInvalidToken) || !known[Reason(err)] {
			t.Fatalf("Verify(%q) = %v (reason %q)", tok, err, Reason(err))
		}
	})
}

// BenchmarkVerify measures the cost of verifying one RS256 token with cached
// keys (what every authenticated request pays).
func BenchmarkVerify(b *testing.B) {
	d, err := LoadOrCreateDev(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := d.Mint("dev", time.Hour, DefaultDevScopes)
	v, err := NewDevVerifier(d)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
