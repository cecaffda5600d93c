package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// BasicFile checks HTTP Basic credentials (RFC 7617) against a
// Ping903-style credentials file whose passwords are hashes: bcrypt
// ($2a$, $2b$, $2y$: htpasswd -B) or SHA-crypt ($5$, $6$: mkpasswd,
// openssl passwd -5/-6). Only the entries of its realm (or of any realm)
// are kept; an entry's URL path, if any, limits it to the requests under
// that path. It is safe for concurrent use.
type BasicFile struct {
	realm   string
	entries []CredEntry

	mu sync.Mutex
	ok map[[32]byte]bool // verified (entry, password) pairs, so a hash runs once
}

// maxVerified bounds BasicFile's memory of verified passwords.
const maxVerified = 4096

// LoadBasicFile reads path and keeps the entries of realm. A password that
// is not a supported hash is an error (with its line): the file must not
// hold clear text.
func LoadBasicFile(path, realm string) (*BasicFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, err := ParseCredFile(f, path)
	if err != nil {
		return nil, err
	}
	b := &BasicFile{realm: realm, ok: map[[32]byte]bool{}}
	for _, e := range all {
		if !isPasswordHash(e.Password) {
			return nil, fmt.Errorf("%s:%d: the password of %s is not a bcrypt ($2y$) or SHA-crypt ($5$, $6$) hash: the server's file holds hashes, never passwords", path, e.Line, e.User)
		}
		if e.Realm == "" || e.Realm == realm {
			b.entries = append(b.entries, e)
		}
	}
	return b, nil
}

// Realm is the realm of the Basic challenge.
func (b *BasicFile) Realm() string { return b.realm }

// Check reports whether user and password are valid for a request to path.
func (b *BasicFile) Check(user, password, path string) bool {
	for _, e := range b.entries {
		if e.User != user || (e.Path != "" && !strings.HasPrefix(path, e.Path)) {
			continue
		}
		if b.verify(e.Password, password) {
			return true
		}
	}
	return false
}

func (b *BasicFile) verify(hash, password string) bool {
	key := sha256.Sum256([]byte(hash + "\x00" + password))
	b.mu.Lock()
	done := b.ok[key]
	b.mu.Unlock()
	if done {
		return true
	}
	if !checkPasswordHash(hash, password) {
		return false
	}
	b.mu.Lock()
	if len(b.ok) >= maxVerified {
		clear(b.ok)
	}
	b.ok[key] = true
	b.mu.Unlock()
	return true
}

func isPasswordHash(h string) bool {
	for _, p := range []string{"$2a$", "$2b$", "$2y$", "$5$", "$6$"} {
		if strings.HasPrefix(h, p) {
			return true
		}
	}
	return false
}

// checkPasswordHash compares password with a bcrypt or SHA-crypt hash.
func checkPasswordHash(hash, password string) bool {
	if strings.HasPrefix(hash, "$5$") || strings.HasPrefix(hash, "$6$") {
		got, ok := shaCrypt(password, hash)
		return ok && subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
	}
	if strings.HasPrefix(hash, "$2y$") { // PHP's and htpasswd's name for $2b$
		hash = "$2b$" + hash[4:]
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
