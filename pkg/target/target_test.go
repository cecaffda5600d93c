package target

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		in       string
		wantAddr string // literal expected
		wantHost string // hostname expected
		wantErr  string // substring of the error; "" means success
	}{
		{in: "127.0.0.1", wantAddr: "127.0.0.1"},
		{in: "  8.8.8.8\t", wantAddr: "8.8.8.8"},
		{in: "::1", wantAddr: "::1"},
		{in: "2001:db8::1", wantAddr: "2001:db8::1"},
		{in: "::ffff:127.0.0.1", wantAddr: "::ffff:127.0.0.1"},
		{in: "example.com", wantHost: "example.com"},
		{in: "Example.COM.", wantHost: "example.com"},
		{in: "localhost", wantHost: "localhost"},
		{in: "a-b.c0", wantHost: "a-b.c0"},
		{in: "1.2.3.com", wantHost: "1.2.3.com"},
		{in: "0x7f.com", wantHost: "0x7f.com"},
		{in: long63 + ".com", wantHost: long63 + ".com"},
		{in: strings.Repeat("a.", 126) + "b", wantHost: strings.Repeat("a.", 126) + "b"},  // 253
		{in: strings.Repeat("a.", 126) + "b.", wantHost: strings.Repeat("a.", 126) + "b"}, // 253 + dot
		{in: "", wantErr: "empty target"},
		{in: "   ", wantErr: "empty target"},
		{in: "fe80::1%eth0", wantErr: "zones"},
		{in: "[::1]", wantErr: "not a valid IPv6"},
		{in: "::1::", wantErr: "not a valid IPv6"},
		{in: "1.2.3", wantErr: "numeric last label"},
		{in: "0x7f.1", wantErr: "numeric last label"},
		{in: "0x7f000001", wantErr: "numeric last label"},
		{in: "2130706433", wantErr: "numeric last label"},
		{in: "017.0.0.1", wantErr: "numeric last label"},
		{in: "1.2.3.4.5", wantErr: "numeric last label"},
		{in: "256.1.1.1", wantErr: "numeric last label"},
		{in: "a..b", wantErr: "empty label"},
		{in: ".", wantErr: "not a hostname"},
		{in: "a.b..", wantErr: "empty label"},
		{in: ".example.com", wantErr: "empty label"},
		{in: "-a.com", wantErr: "hyphen"},
		{in: "a-.com", wantErr: "hyphen"},
		{in: strings.Repeat("a", 64) + ".com", wantErr: "longer than 63"},
		{in: strings.Repeat("a.", 127) + "b", wantErr: "longer than 253"},
		{in: "a_b.com", wantErr: "only letters"},
		{in: "a b", wantErr: "only letters"},
		{in: "127.0.0.1; rm -rf /", wantErr: "only letters"},
		{in: "$(reboot)", wantErr: "only letters"},
		{in: "ex\u00e4mple.com", wantErr: "only letters"},
		{in: "http://example.com", wantErr: "not a valid IPv6"},
		{in: "1.2.3.4/32", wantErr: "only letters"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) = %+v, %v; want error containing %q wrapping ErrInvalid", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got.Input != strings.TrimSpace(tt.in) {
				t.Errorf("Input = %q", got.Input)
			}
			if tt.wantAddr != "" && got.Addr != netip.MustParseAddr(tt.wantAddr) || tt.wantAddr == "" && got.Addr.IsValid() {
				t.Errorf("Addr = %v, want %q", got.Addr, tt.wantAddr)
			}
			if got.Host != tt.wantHost {
				t.Errorf("Host = %q, want %q", got.Host, tt.wantHost)
			}
			if got.IsLiteral() != (tt.wantAddr != "") {
				t.Errorf("IsLiteral = %v", got.IsLiteral())
			}
		})
	}
}

func TestParseFamily(t *testing.T) {
	tests := []struct {
		in   string
		want Family
		ok   bool
	}{
		{"", 0, true}, {"0", 0, true}, {"4", 4, true}, {" 6 ", 6, true},
		{"5", 0, false}, {"ipv4", 0, false}, {"-4", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseFamily(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseFamily(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseFamily(%q) error %v does not wrap ErrInvalid", tt.in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1", "::1", "fe80::1%eth0", "example.com.", "1.2.3", "0x7f.1",
		"a..b", "-a", "::ffff:10.0.0.1", " host ", "[::1]", strings.Repeat("a.", 130),
		"\x00", "ä.com", "1.2.3.4.", "0x7f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if got.Addr.IsValid() == (got.Host != "") {
			t.Fatalf("Parse(%q) = %+v: exactly one of Addr and Host must be set", s, got)
		}
		if got.Addr.IsValid() {
			if got.Addr.Zone() != "" {
				t.Fatalf("Parse(%q) accepted a zone", s)
			}
			return
		}
		if len(got.Host) > 253 {
			t.Fatalf("Parse(%q): host longer than 253", s)
		}
		for i := 0; i < len(got.Host); i++ {
			c := got.Host[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				t.Fatalf("Parse(%q) host %q has byte %q", s, got.Host, c)
			}
		}
		if _, err := netip.ParseAddr(got.Host); err == nil {
			t.Fatalf("Parse(%q) returned an address as a hostname", s)
		}
	})
}
