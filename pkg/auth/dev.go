package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Dev-mode constants: the iss and aud of every dev token, and the key file
// kept under the data directory.
const (
	DevIssuer   = "pingapi-dev"
	DevAudience = "pingapi"
	DevKeyFile  = "dev-signing-key.pem"
)

// DefaultDevScopes are the scopes a dev token carries unless told otherwise.
var DefaultDevScopes = []string{"ping:run", "monitor:read", "monitor:write", ScopeArchiveRead, ScopeArchiveWrite}

// MaxDevTTL bounds the lifetime of a dev token.
const MaxDevTTL = 366 * 24 * time.Hour

// Dev is the embedded development issuer: one RSA-2048 key kept under the
// data directory. It is safe for concurrent use.
type Dev struct {
	key  *rsa.PrivateKey
	kid  string
	path string
	// Now is the clock used by Mint; time.Now when nil. Set it before use.
	Now func() time.Time
}

// LoadOrCreateDev returns the dev issuer of dataDir, creating its key on the
// first call: dataDir is created with mode 0700 if missing, and the key is
// written to dataDir/DevKeyFile with mode 0600 atomically (temporary file,
// fsync, hard link into place, so that two processes starting at once end up
// with the same key). Later calls reuse the file. A key file readable or
// writable by group or others is refused.
func LoadOrCreateDev(dataDir string) (*Dev, error) {
	if dataDir == "" {
		return nil, errors.New("auth: dev issuer: empty data directory")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: dev issuer: %w", err)
	}
	path := filepath.Join(dataDir, DevKeyFile)
	key, err := loadDevKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createDevKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: dev issuer: %w", err)
	}
	return &Dev{key: key, kid: thumbprint(&key.PublicKey), path: path}, nil
}

func loadDevKey(path string) (*rsa.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %v; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM \"PRIVATE KEY\"", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok || rk.N.BitLen() < 2048 {
		return nil, fmt.Errorf("%s: not an RSA key of at least 2048 bits", path)
	}
	return rk, nil
}

func createDevKey(path string) (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".dev-signing-key-*.tmp") // mode 0600
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	// Link fails if another process created the key meanwhile: use theirs.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadDevKey(path)
		}
		return nil, err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new directory entry durable
		d.Close()
	}
	return key, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of an RSA public key: SHA-256 of
// the members e, kty, n in lexicographic order, base64url without padding.
func thumbprint(pub *rsa.PublicKey) string {
	b64 := base64.RawURLEncoding.EncodeToString
	e := big.NewInt(int64(pub.E)).Bytes()
	canon := `{"e":"` + b64(e) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return b64(sum[:])
}

// KeyID returns the kid of the dev key (its RFC 7638 thumbprint).
func (d *Dev) KeyID() string { return d.kid }

// Path returns the key file.
func (d *Dev) Path() string { return d.path }

// JWKS returns the public key set as JSON, suitable for
// /.well-known/jwks.json and for Config.StaticJWKS.
func (d *Dev) JWKS() []byte {
	b64 := base64.RawURLEncoding.EncodeToString
	set := map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": d.kid,
		"n":   b64(d.key.N.Bytes()),
		"e":   b64(big.NewInt(int64(d.key.E)).Bytes()),
	}}}
	out, _ := json.Marshal(set) // cannot fail: strings only
	return out
}

// VerifierConfig returns a Config for verifying this issuer's tokens; adjust
// Logger or Now before passing it to New.
func (d *Dev) VerifierConfig() Config {
	return Config{StaticJWKS: d.JWKS(), Issuer: DevIssuer, Audience: DevAudience, Algorithms: []string{"RS256"}}
}

// NewDevVerifier returns a Verifier for the tokens of d, built by New like a
// production one, with d's key set as its static JWKS.
func NewDevVerifier(d *Dev) (*Verifier, error) { return New(d.VerifierConfig()) }

// Mint returns an RS256 token for sub valid for ttl (0 < ttl ≤ MaxDevTTL)
// with iss DevIssuer, aud DevAudience, iat = nbf = now, a random jti, and
// scopes as Auth0's space-separated "scope" claim.
func (d *Dev) Mint(sub string, ttl time.Duration, scopes []string) (string, error) {
	if sub == "" {
		return "", errors.New("auth: mint: empty subject")
	}
	if ttl <= 0 || ttl > MaxDevTTL {
		return "", fmt.Errorf("auth: mint: ttl %v out of range (0, %v]", ttl, MaxDevTTL)
	}
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return "", fmt.Errorf("auth: mint: invalid scope %q", s)
		}
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	t := now().Truncate(time.Second)
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	claims := devClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    DevIssuer,
			Subject:   sub,
			Audience:  jwt.ClaimStrings{DevAudience},
			ExpiresAt: jwt.NewNumericDate(t.Add(ttl)),
			NotBefore: jwt.NewNumericDate(t),
			IssuedAt:  jwt.NewNumericDate(t),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
		Scope: strings.Join(scopes, " "),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = d.kid
	return tok.SignedString(d.key)
}

// devClaims serialises scope as the plain string Auth0 uses.
type devClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope,omitempty"`
}
