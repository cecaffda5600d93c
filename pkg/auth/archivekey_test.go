package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestNewArchiveKey(t *testing.T) {
	k1, h1, err := NewArchiveKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, _, err := NewArchiveKey()
	if err != nil {
		t.Fatal(err)
	}
	if k1 == k2 {
		t.Fatal("two keys are equal")
	}
	if got, err := ParseArchiveKey(k1); err != nil || got != k1 {
		t.Fatalf("ParseArchiveKey(%q) = %q, %v", k1, got, err)
	}
	if h1 != HashArchiveKey(k1) || h1 == k1 || len(h1) != 64 {
		t.Fatalf("hash %q of %q", h1, k1)
	}
	if HashArchiveKey(strings.ToUpper(k1)) != h1 {
		t.Error("the hash depends on the case of the key")
	}
}

func TestParseArchiveKey(t *testing.T) {
	for _, s := range []string{"", "abc", strings.Repeat("g", 40), strings.Repeat("a", 39), strings.Repeat("a", 41), strings.Repeat("a", 39) + " "} {
		if _, err := ParseArchiveKey(s); !errors.Is(err, ErrArchiveKey) {
			t.Errorf("ParseArchiveKey(%q) = %v, want ErrArchiveKey", s, err)
		}
	}
	if got, err := ParseArchiveKey(strings.Repeat("AB", 20)); err != nil || got != strings.Repeat("ab", 20) {
		t.Errorf("upper case: %q, %v", got, err)
	}
}
