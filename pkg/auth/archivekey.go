package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/pingapi/pingapi/pkg/archive"
)

// Scopes of the archive's esmond API, in bearer JWTs.
const (
	ScopeArchiveRead  = "archive:read"  // read metadata and data when ARCHIVE_READ=token
	ScopeArchiveWrite = "archive:write" // register metadata, post data, delete
)

// ArchiveKeyLen is the length of an archive key: 40 hexadecimal digits,
// the form of esmond's (Django REST framework's) API keys, which
// pScheduler's esmond archiver and esmond's Python client send as
// "Authorization: Token <key>".
const ArchiveKeyLen = 40

// ErrArchiveKey is returned for a string that cannot be an archive key.
var ErrArchiveKey = errors.New("not an archive key: want 40 hexadecimal digits")

// NewArchiveKey returns a new random archive key (160 bits from
// crypto/rand) and its hash, the only form the archive stores.
func NewArchiveKey() (key, hash string, err error) {
	var b [ArchiveKeyLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	key = hex.EncodeToString(b[:])
	return key, HashArchiveKey(key), nil
}

// HashArchiveKey returns the stored form of key: the hex SHA-256 of its
// lower-case text. A key carries 160 random bits, so an unsalted fast hash
// is enough: nobody can search the key space from a stolen hash, and a
// lookup by hash needs no comparison of secrets in application code.
func HashArchiveKey(key string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(key)))
	return hex.EncodeToString(sum[:])
}

// ParseArchiveKey checks that s has the form of an archive key (40 hex
// digits, either case) and returns it in lower case.
func ParseArchiveKey(s string) (string, error) {
	if len(s) != ArchiveKeyLen {
		return "", ErrArchiveKey
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", ErrArchiveKey
		}
	}
	return strings.ToLower(s), nil
}

// Errors of CheckArchiveKey.
var (
	// ErrArchiveKeyNotLive: the credential is not a live archive key (not
	// the form of one, no stored key has its hash, or the key is revoked).
	ErrArchiveKeyNotLive = errors.New("not a live archive key")
	// ErrArchiveKeyStore: the key store could not be asked now; the
	// store's error is wrapped too.
	ErrArchiveKeyStore = errors.New("archive key store unavailable")
)

// ArchiveKeyStore finds archive keys by hash; *archive.Store implements it.
type ArchiveKeyStore interface {
	APIKeyByHash(ctx context.Context, hash string) (archive.APIKey, error)
}

// CheckArchiveKey returns the name of the live archive key key, looked up
// in st by its hash. Errors wrap ErrArchiveKeyNotLive or
// ErrArchiveKeyStore.
func CheckArchiveKey(ctx context.Context, st ArchiveKeyStore, key string) (string, error) {
	key, err := ParseArchiveKey(key)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrArchiveKeyNotLive, err)
	}
	k, err := st.APIKeyByHash(ctx, HashArchiveKey(key))
	switch {
	case errors.Is(err, archive.ErrNotFound):
		return "", fmt.Errorf("%w: unknown archive key", ErrArchiveKeyNotLive)
	case err != nil:
		return "", fmt.Errorf("%w: %w", ErrArchiveKeyStore, err)
	case !k.Revoked.IsZero():
		return "", fmt.Errorf("%w: revoked archive key", ErrArchiveKeyNotLive)
	}
	return k.Name, nil
}
