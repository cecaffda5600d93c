package monitor

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonicalName(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"192.0.2.1", "192.0.2.1", ""},
		{" 192.0.2.1\t", "192.0.2.1", ""},
		{"Example.ORG.", "example.org", ""},
		{"2001:DB8::1", "2001:db8::1", ""},
		{"::ffff:192.0.2.9", "192.0.2.9", ""}, // the address it is, judged and probed as IPv4
		{"localhost", "localhost", ""},
		{"127.0.0.200\n", "", "control character"},
		{"127.0.0.200\r", "", "control character"},
		{"localhost\n", "", "control character"},
		{"a\x00b", "", "control character"},
		{"a\x7f", "", "control character"},
		{"fe80::1%lo", "", "zones"},
		{"", "", "empty host name"},
		{"   ", "", "empty host name"},
		{"not a host", "", "not an IP address nor a hostname"},
		{"127.0.0.1/", "", "not an IP address nor a hostname"},
		{strings.Repeat("a", 254), "", "longer than 253"},
	}
	for _, tt := range tests {
		got, err := CanonicalName(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrInvalid) {
				t.Errorf("CanonicalName(%q) = %q, %v; want an ErrInvalid saying %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CanonicalName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzCanonicalName: a canonical name is its own canonical form, holds no
// control character nor surrounding blank, and survives the file format.
func FuzzCanonicalName(f *testing.F) {
	for _, s := range []string{"192.0.2.1", " Example.ORG. ", "::FFFF:1.2.3.4", "a\nb", "x%0A", "fe80::1%lo", "-x-", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CanonicalName(s)
		if err != nil {
			return
		}
		if c2, err := CanonicalName(c); err != nil || c2 != c {
			t.Fatalf("CanonicalName(%q) = %q, but CanonicalName(%q) = %q, %v", s, c, c, c2, err)
		}
		if c != strings.TrimSpace(c) || strings.ContainsAny(c, "\r\n\x00#") {
			t.Fatalf("CanonicalName(%q) = %q", s, c)
		}
		names, err := ParseIPList(strings.NewReader(c + "\n"))
		if err != nil || len(names) != 1 || names[0] != c {
			t.Fatalf("%q read back from a file as %q, %v", c, names, err)
		}
	})
}

func isCanonical(n string) bool {
	c, err := CanonicalName(n)
	return err == nil && c == n
}
