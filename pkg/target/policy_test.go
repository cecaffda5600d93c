package target

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	pfx := func(s string) []netip.Prefix {
		p, err := ParsePrefixes(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	def := Policy{}
	dev := DevPolicy()
	tests := []struct {
		name    string
		p       Policy
		addr    string
		wantErr string // "" means allowed
	}{
		{"public v4", def, "8.8.8.8", ""},
		{"public v6", def, "2001:4860:4860::8888", ""},
		{"loopback", def, "127.0.0.1", "127.0.0.1 is a loopback address"},
		{"loopback 127/8", def, "127.1.2.3", "loopback"},
		{"loopback v6", def, "::1", "::1 is a loopback address"},
		{"mapped loopback", def, "::ffff:127.0.0.1", "127.0.0.1 is a loopback address"},
		{"private 10", def, "10.1.2.3", "private"},
		{"private 172", def, "172.31.255.255", "private"},
		{"172.32 is public", def, "172.32.0.1", ""},
		{"private 192.168", def, "192.168.0.1", "private"},
		{"mapped private", def, "::ffff:10.0.0.1", "private"},
		{"ula", def, "fd00::1", "unique local"},
		{"cgnat", def, "100.64.0.1", "CGNAT"},
		{"unspecified v4", def, "0.0.0.0", "unspecified"},
		{"this network", def, "0.1.2.3", "unspecified"},
		{"unspecified v6", def, "::", "unspecified"},
		{"multicast v4", def, "224.0.0.1", "multicast"},
		{"multicast v6", def, "ff02::1", "multicast"},
		{"mapped multicast", def, "::ffff:239.1.1.1", "multicast"},
		{"broadcast", def, "255.255.255.255", "broadcast"},
		{"reserved", def, "240.0.0.1", "reserved"},
		{"link-local v4", def, "169.254.169.254", "link-local"},
		{"link-local v6", def, "fe80::1", "link-local"},
		{"link-local v6 zone", def, "fe80::1%eth0", "link-local"},
		{"invalid", def, "", "invalid address"},

		{"nat64 of private", def, "64:ff9b::a00:1", "NAT64 address of 10.0.0.1 is a private address"},
		{"nat64 of loopback", def, "64:ff9b::7f00:1", "loopback"},
		{"nat64 of public", def, "64:ff9b::808:808", ""},
		{"nat64 of denied public", Policy{Deny: pfx("8.8.8.8")}, "64:ff9b::808:808", "deny list"},
		{"nat64 of allowed private", Policy{Allow: pfx("10.0.0.0/8")}, "64:ff9b::a00:1", ""},
		{"dev loopback", dev, "127.0.0.1", ""},
		{"dev loopback v6", dev, "::1", ""},
		{"dev mapped loopback", dev, "::ffff:127.0.0.2", ""},
		{"dev public", dev, "8.8.8.8", ""},
		{"dev private still denied", dev, "10.0.0.1", "private"},

		{"allow private", Policy{Allow: pfx("10.0.0.0/8")}, "10.9.9.9", ""},
		{"allow private via mapped prefix", Policy{Allow: pfx("::ffff:10.0.0.0/104")}, "10.9.9.9", ""},
		{"allow one private, not the other", Policy{Allow: pfx("10.0.0.0/8")}, "192.168.1.1", "private"},
		{"allow cannot enable link-local", Policy{Allow: pfx("169.254.0.0/16")}, "169.254.1.1", "link-local"},
		{"allow cannot enable multicast", Policy{Allow: pfx("0.0.0.0/0")}, "224.0.0.1", "multicast"},
		{"deny wins over allow", Policy{Allow: pfx("10.0.0.0/8"), Deny: pfx("10.1.0.0/16")}, "10.1.2.3", "deny list (10.1.0.0/16)"},
		{"deny public", Policy{Deny: pfx("8.8.8.0/24")}, "8.8.8.8", "deny list"},
		{"deny matches mapped", Policy{Deny: pfx("8.8.8.8")}, "::ffff:8.8.8.8", "deny list"},
		{"deny all v6", Policy{Deny: pfx("::/0")}, "2001:db8::1", "deny list"},
		{"allow only: inside", Policy{Allow: pfx("192.0.2.0/24"), AllowOnly: true}, "192.0.2.7", ""},
		{"allow only: outside", Policy{Allow: pfx("192.0.2.0/24"), AllowOnly: true}, "8.8.8.8", "not in the allow list"},
		{"allow only: loopback outside", Policy{Allow: pfx("192.0.2.0/24"), AllowOnly: true}, "127.0.0.1", "not in the allow list"},
		{"allow only, empty list", Policy{AllowOnly: true}, "8.8.8.8", "not in the allow list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a netip.Addr
			if tt.addr != "" {
				a = netip.MustParseAddr(tt.addr)
			}
			err := tt.p.Check(a)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want allowed", tt.addr, err)
				}
				return
			}
			if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Check(%s) = %v, want ErrDenied containing %q", tt.addr, err, tt.wantErr)
			}
		})
	}
}

func TestCheckTarget(t *testing.T) {
	p := Policy{}
	lit, _ := Parse("127.0.0.1")
	host, _ := Parse("localhost")
	if err := p.CheckTarget(lit); !errors.Is(err, ErrDenied) {
		t.Errorf("CheckTarget(literal loopback) = %v", err)
	}
	if err := p.CheckTarget(host); err != nil {
		t.Errorf("CheckTarget(hostname) = %v, want nil before resolution", err)
	}
}

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"  , ", nil, ""},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}, ""},
		{"10.1.2.3/8, 192.168.0.1 ::1\tfd00::/8", []string{"10.0.0.0/8", "192.168.0.1/32", "::1/128", "fd00::/8"}, ""},
		{"10.0.0.0/8,,172.16.0.0/12", []string{"10.0.0.0/8", "172.16.0.0/12"}, ""},
		{"10.0.0.0/33", nil, "not a CIDR prefix"},
		{"example.com", nil, "neither an address"},
		{"fe80::1%eth0", nil, "zones"},
		{"1.2.3", nil, "neither an address"},
	}
	for _, tt := range tests {
		got, err := ParsePrefixes(tt.in)
		if tt.wantErr != "" {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePrefixes(%q) = %v, %v; want %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePrefixes(%q): %v", tt.in, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if strings.Join(s, " ") != strings.Join(tt.want, " ") {
			t.Errorf("ParsePrefixes(%q) = %v, want %v", tt.in, s, tt.want)
		}
	}
}

func FuzzParsePrefixes(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "1.2.3.4, ::1", "fe80::/10%x", "/", ",,", "::ffff:1.2.3.4/120"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParsePrefixes(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		for _, p := range got {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("ParsePrefixes(%q) returned %v", s, p)
			}
			_ = (Policy{Allow: got, Deny: got}).Check(p.Addr())
		}
	})
}
