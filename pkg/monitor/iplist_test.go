package monitor

import (
	"slices"
	"strings"
	"testing"
)

func TestParseIPList(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		err      string
	}{
		{"empty", "", nil, ""},
		{"comments and blanks", "# x\n\n  \t\n  # y\n", nil, ""},
		{"whitespace trimmed", "  192.0.2.1\t\n192.0.2.2  \r\n", []string{"192.0.2.1", "192.0.2.2"}, ""},
		{"hostnames and v6", "example.org\n::1\n", []string{"example.org", "::1"}, ""},
		{"duplicates kept", "192.0.2.1\n192.0.2.1\n", []string{"192.0.2.1", "192.0.2.1"}, ""},
		{"space inside", "192.0.2.1\n192.0.2.2 192.0.2.3\n", nil, `line 2: "192.0.2.2 192.0.2.3" is not an IP address nor a hostname`},
		{"trailing comment", "192.0.2.1 # x\n", nil, `line 1: "192.0.2.1 # x" is not an IP address nor a hostname`},
		{"too long", strings.Repeat("a", 254) + "\n", nil, `line 1: host name longer than 253 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIPList(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzParseIPList(f *testing.F) {
	for _, s := range []string{"192.0.2.1\n", "# c\n  example.org  \n\n", "::1\n127.0.0.1\r\n", "a b\n", "\x00\n", "-x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, err := ParseIPList(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, n := range names {
			if n == "" || n != strings.TrimSpace(n) || n[0] == '#' || !isCanonical(n) {
				t.Fatalf("accepted %q", n)
			}
		}
	})
}
