package tcpecho

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHello(t *testing.T) {
	for _, tt := range []struct {
		line string
		want Hello
		ok   bool
	}{
		{"PINGAPI-ECHO/1 Bearer a.b.c berlin", Hello{"Bearer", "a.b.c", "berlin"}, true},
		{"PINGAPI-ECHO/1 Key k_123 fra-1.dc\r", Hello{"Key", "k_123", "fra-1.dc"}, true},
		{"PINGAPI-ECHO/1 Bearer a.b.c", Hello{}, false},      // no name
		{"PINGAPI-ECHO/1 Basic dXNlcg== x", Hello{}, false},  // scheme
		{"PINGAPI-ECHO/2 Bearer t x", Hello{}, false},        // version
		{"PINGAPI-ECHO/1  Bearer t x", Hello{}, false},       // double space
		{"PINGAPI-ECHO/1 Bearer t bad/name", Hello{}, false}, // name characters
		{"PINGAPI-ECHO/1 Bearer t " + strings.Repeat("n", 65), Hello{}, false},
		{"PINGAPI-ECHO/1 Bearer t\x7f x", Hello{}, false}, // unprintable credential
		{"PINGAPI-ECHO/1 Bearer " + strings.Repeat("t", MaxHelloBytes) + " x", Hello{}, false},
		{"", Hello{}, false},
	} {
		got, err := ParseHello(tt.line)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseHello(%.40q) = %+v, %v; want %+v ok=%v", tt.line, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadHello) {
			t.Errorf("ParseHello(%.40q): error %v does not wrap ErrBadHello", tt.line, err)
		}
	}
}

// FuzzParseHello: the hello comes from anyone who completes a TLS
// handshake. ParseHello never panics, and what it accepts formats back to
// the same line.
func FuzzParseHello(f *testing.F) {
	for _, s := range []string{
		"PINGAPI-ECHO/1 Bearer a.b.c berlin",
		"PINGAPI-ECHO/1 Key k x\r",
		"PINGAPI-ECHO/1 Bearer  x",
		"PINGAPI-ECHO/1 Bearer a b c",
		"\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		h, err := ParseHello(line)
		if err != nil {
			return
		}
		if back := strings.TrimSuffix(FormatHello(h), "\n"); back != strings.TrimSuffix(line, "\r") {
			t.Errorf("round trip %q → %+v → %q", line, h, back)
		}
		if CheckName(h.Name) != nil || strings.ContainsAny(h.Credential, " \r\n") {
			t.Errorf("accepted %+v", h)
		}
	})
}
