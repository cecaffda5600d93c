package main

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestExpandCIDR(t *testing.T) {
	tests := []struct {
		in        string
		limit     int
		wantN     int
		wantFirst string
		wantLast  string
		wantErr   string
	}{
		{in: "192.0.2.0/30", limit: 10, wantN: 2, wantFirst: "192.0.2.1", wantLast: "192.0.2.2"},
		{in: "192.0.2.7/29", limit: 10, wantN: 6, wantFirst: "192.0.2.1", wantLast: "192.0.2.6"},
		{in: "192.0.2.4/31", limit: 10, wantN: 2, wantFirst: "192.0.2.4", wantLast: "192.0.2.5"},
		{in: "192.0.2.9/32", limit: 10, wantN: 1, wantFirst: "192.0.2.9", wantLast: "192.0.2.9"},
		{in: " 10.0.0.0/16 ", limit: maxMeasureTargets, wantN: 65534, wantFirst: "10.0.0.1", wantLast: "10.0.255.254"},
		{in: "fd00:200::/126", limit: 10, wantN: 4, wantFirst: "fd00:200::", wantLast: "fd00:200::3"},
		{in: "fd00:200::/112", limit: maxMeasureTargets, wantN: 65536, wantFirst: "fd00:200::", wantLast: "fd00:200::ffff"},
		{in: "10.0.0.0/11", limit: maxMeasureTargets, wantErr: "10.0.0.0/11 holds 2097150 addresses; at most 1048576"},
		{in: "fd00::/64", limit: maxMeasureTargets, wantErr: "holds 18446744073709551616 addresses"},
		{in: "::/0", limit: maxMeasureTargets, wantErr: "holds 340282366920938463463374607431768211456"},
		{in: "192.0.2.0/30", limit: 1, wantErr: "holds 2 addresses; at most 1"},
		{in: "192.0.2.0", limit: 10, wantErr: "not a CIDR prefix"},
		{in: "192.0.2.0/33", limit: 10, wantErr: "not a CIDR prefix"},
		{in: "fe80::%eth0/64", limit: 10, wantErr: "-g"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expandCIDR(tt.in, tt.limit)
			if !wantErr(t, err, tt.wantErr) {
				return
			}
			if len(got) != tt.wantN || got[0].String() != tt.wantFirst || got[len(got)-1].String() != tt.wantLast {
				t.Fatalf("got %d addrs %v..%v, want %d %s..%s", len(got), got[0], got[len(got)-1], tt.wantN, tt.wantFirst, tt.wantLast)
			}
		})
	}
}

func TestParseTargetList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		limit   int
		want    []listLine
		wantErr string
	}{
		{name: "empty", in: "", limit: 5},
		{name: "comments and blanks", in: "# list\n\n a.test \n\tb.test# trailing\n#c.test\r\n192.0.2.1\r\n", limit: 5,
			want: []listLine{{2 + 1, "a.test"}, {4, "b.test"}, {6, "192.0.2.1"}}},
		{name: "no final newline", in: "a.test", limit: 5, want: []listLine{{1, "a.test"}}},
		{name: "two words", in: "a.test\nb.test c.test\n", limit: 5, wantErr: "f:2: one target per line"},
		{name: "over the limit", in: "a\nb\nc\n", limit: 2, wantErr: "f:3: too many targets"},
		{name: "long line", in: "a\n" + strings.Repeat("x", maxLineBytes+1) + "\n", limit: 5, wantErr: "f:2: line longer than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTargetList(strings.NewReader(tt.in), "f", tt.limit)
			if !wantErr(t, err, tt.wantErr) {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestGatherTargetsErrors(t *testing.T) {
	tests := []struct {
		name    string
		f       measureFlags
		stdin   string
		wantErr string
	}{
		{"bad line names file and line", measureFlags{files: []string{"-"}}, "a.test\n\nbad_name!\n", "-:3: invalid target"},
		{"missing file", measureFlags{files: []string{"/nonexistent/list"}}, "", "-f: open /nonexistent/list"},
		{"cap across sources", measureFlags{targets: []string{"192.0.2.1"}, cidrs: []string{"10.0.0.0/12", "10.16.0.0/30"}}, "", "10.16.0.0/30 holds 2 addresses; at most 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gatherTargets(tt.f, strings.NewReader(tt.stdin))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseTargetList: never panics, never returns more than limit lines,
// every returned line is one trimmed, comment-free word.
func FuzzParseTargetList(f *testing.F) {
	for _, s := range []string{"", "a\n", "# c\n a.test # x\n\n192.0.2.1\r\n", "a b\n", "\x00\n#", strings.Repeat("y", 5000)} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, in string, limit int) {
		limit = max(0, limit%100)
		got, err := parseTargetList(strings.NewReader(in), "f", limit)
		if err != nil {
			return
		}
		if len(got) > limit {
			t.Fatalf("%d lines over limit %d", len(got), limit)
		}
		for _, l := range got {
			if l.text == "" || strings.ContainsAny(l.text, "# \t\r\n") || l.line < 1 {
				t.Fatalf("bad line %+v", l)
			}
		}
	})
}

// FuzzExpandCIDR: never panics, never exceeds the limit, every address is
// inside the prefix and distinct.
func FuzzExpandCIDR(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24", "192.0.2.1/32", "10.0.0.0/8", "fd00::/120", "::/0", "1.2.3.4/31", "x/3", "::ffff:1.2.3.4/120"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := expandCIDR(s, 1024)
		if err != nil {
			return
		}
		if len(got) > 1024 || len(got) == 0 {
			t.Fatalf("%d addresses", len(got))
		}
		p := netip.MustParsePrefix(strings.TrimSpace(s)).Masked()
		seen := make(map[netip.Addr]bool, len(got))
		for _, a := range got {
			if !p.Contains(a) || seen[a] {
				t.Fatalf("%v outside %v or repeated", a, p)
			}
			seen[a] = true
		}
	})
}
