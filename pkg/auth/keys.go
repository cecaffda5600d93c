package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
)

// maxJWKSBytes bounds the size of a key set response.
const maxJWKSBytes = 1 << 20

// keyStore is the jwkset.Storage keyfunc reads from: the in-memory set of
// the last successful fetch, plus a rate-limited refresh when a kid is
// unknown (collapsed into one in-flight fetch, as coreos/go-oidc does).
type keyStore struct {
	*jwkset.MemoryJWKSet
	v *Verifier
}

// KeyRead returns the key with keyID, refreshing the set once if it is
// unknown and the unknown-kid rate limit allows.
func (s *keyStore) KeyRead(ctx context.Context, keyID string) (jwkset.JWK, error) {
	jwk, err := s.MemoryJWKSet.KeyRead(ctx, keyID)
	if !errors.Is(err, jwkset.ErrKeyNotFound) {
		return jwk, err
	}
	v := s.v
	now := v.cfg.Now()
	if v.cfg.StaticJWKS != nil || v.absent.has(keyID, now) || !v.limiter.AllowN(now, 1) {
		return jwkset.JWK{}, err
	}
	v.log.InfoContext(ctx, "auth: unknown key ID, refreshing the key set", "kid", clipKID(keyID))
	if rerr := v.refreshShared(ctx); rerr != nil {
		return jwkset.JWK{}, errors.Join(err, rerr)
	}
	jwk, err = s.MemoryJWKSet.KeyRead(ctx, keyID)
	if errors.Is(err, jwkset.ErrKeyNotFound) {
		v.absent.add(keyID, now, now.Add(v.cfg.NegativeKIDTTL))
	}
	return jwk, err
}

// maxAbsentKIDs bounds the negative cache. Only a kid that triggered a
// refresh is added, at most one per UnknownKIDInterval, so the bound is
// reached only with a very long NegativeKIDTTL; then nothing more is added
// and the rate limit alone applies.
const maxAbsentKIDs = 1024

// absentKIDs is the negative cache of the unknown-kid refresh: kids a
// refresh has just proven absent from the key set, each until its expiry.
// Safe for concurrent use; the zero value is empty.
type absentKIDs struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (a *absentKIDs) has(kid string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.until[clipKID(kid)]
	return ok && now.Before(exp)
}

func (a *absentKIDs) add(kid string, now, until time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.until == nil {
		a.until = map[string]time.Time{}
	}
	if len(a.until) >= maxAbsentKIDs {
		for k, exp := range a.until {
			if !now.Before(exp) {
				delete(a.until, k)
			}
		}
		if len(a.until) >= maxAbsentKIDs {
			return
		}
	}
	a.until[clipKID(kid)] = until
}

func clipKID(kid string) string {
	if len(kid) > 64 {
		return kid[:64]
	}
	return kid
}

// refreshShared runs one refresh shared by every concurrent caller; each
// caller stops waiting when its ctx ends.
func (v *Verifier) refreshShared(ctx context.Context) error {
	ch := v.flight.DoChan("refresh", func() (any, error) {
		return nil, v.refresh(v.ctx)
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is the background loop: fetch until the first success with backoff,
// then every RefreshInterval; after a failed refresh, retry with backoff
// while the cached keys stay in use.
func (v *Verifier) run() {
	defer close(v.done)
	backoff := v.cfg.MinBackoff
	for {
		wait := v.cfg.RefreshInterval
		if err := v.refreshShared(v.ctx); err != nil {
			if v.ctx.Err() != nil {
				return
			}
			wait = jitter(backoff)
			v.log.Warn("auth: cannot fetch the key set", "url", v.cfg.JWKSURL, "err", err,
				"keys_cached", v.Ready(), "retry_in", wait)
			backoff = min(2*backoff, v.cfg.MaxBackoff)
		} else {
			backoff = v.cfg.MinBackoff
		}
		t := time.NewTimer(wait)
		select {
		case <-v.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// jitter spreads d by ±20 % so that many instances do not retry in step.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + rand.N(d*2/5+1)
}

// refresh fetches and parses the key set and, when it holds at least one
// usable signing key, replaces the cache with it. On any failure the cache
// is left as it was.
func (v *Verifier) refresh(ctx context.Context) error {
	v.fetches.Add(1)
	raw, err := v.fetch(ctx)
	if err != nil {
		return err
	}
	keys, err := parseKeySet(raw)
	if err != nil {
		return err
	}
	if err := v.keys.KeyReplaceAll(ctx, keys); err != nil {
		return err
	}
	if !v.loaded.Swap(true) {
		v.log.Info("auth: key set loaded", "keys", len(keys))
	}
	return nil
}

// parseKeySet decodes a JWKS document into public signing keys. Keys meant
// for encryption, symmetric keys and unsupported key types are skipped;
// private parts are ignored. A set without any usable key is an error.
func parseKeySet(raw []byte) ([]jwkset.JWK, error) {
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("decode key set: %w", err)
	}
	var keys []jwkset.JWK
	var skipped []error
	for i, m := range set.Keys {
		if m.KTY == jwkset.KtyOct || (m.USE != "" && m.USE != jwkset.UseSig) {
			continue
		}
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d (kid %q): %w", i, clipKID(m.KID), err))
			continue
		}
		keys = append(keys, jwk)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("key set has no usable signing key: %w", errors.Join(skipped...))
	}
	return keys, nil
}

// fetchHTTP GETs the key set within HTTPTimeout.
func (v *Verifier) fetchHTTP(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.HTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("GET %s: status %d", v.cfg.JWKSURL, resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", v.cfg.JWKSURL, err)
	}
	if len(raw) > maxJWKSBytes {
		return nil, fmt.Errorf("GET %s: key set larger than %d bytes", v.cfg.JWKSURL, maxJWKSBytes)
	}
	return raw, nil
}
