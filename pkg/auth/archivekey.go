package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
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
