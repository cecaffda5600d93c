package auth

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestParseCredFile(t *testing.T) {
	const file = `# ping903.cred
localhost:8080  ping903  alice  "two words"
http://*/config/ip-list  *  admin  secret
*  bob  guessme
[::1]:8080  carol  x
https://mon.example  dave  "a \"quoted\" one"
`
	got, err := ParseCredFile(strings.NewReader(file), "cred")
	if err != nil {
		t.Fatal(err)
	}
	want := []CredEntry{
		{Host: "localhost", Port: "8080", Realm: "ping903", User: "alice", Password: "two words", Line: 2},
		{Port: "80", Path: "/config/ip-list", User: "admin", Password: "secret", Line: 3},
		{User: "bob", Password: "guessme", Line: 4},
		{Host: "::1", Port: "8080", User: "carol", Password: "x", Line: 5},
		{Host: "mon.example", Port: "443", User: "dave", Password: `a "quoted" one`, Line: 6},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for _, tt := range []struct{ host, port, path, realm, user string }{
		{"localhost", "8080", "/host", "ping903", "alice"},
		{"localhost", "8080", "/host", "", "alice"},
		{"localhost", "8080", "/host", "other", "bob"},
		{"127.0.0.1", "80", "/config/ip-list/x", "r", "admin"},
		{"::1", "8080", "/id", "r", "bob"},
	} {
		if e, ok := FindCred(got, tt.host, tt.port, tt.path, tt.realm); !ok || e.User != tt.user {
			t.Errorf("FindCred(%s, %s, %s, %s) = %s, %v; want %s", tt.host, tt.port, tt.path, tt.realm, e.User, ok, tt.user)
		}
	}
	for _, bad := range []string{"a b\n", "a b c d e\n", `a "b c` + "\n", "http://x:y:z/ u p\n", "* :u p\n"} {
		if _, err := ParseCredFile(strings.NewReader(bad), "cred"); err == nil || !strings.HasPrefix(err.Error(), "cred:1: ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzParseCredFile(f *testing.F) {
	for _, s := range []string{"localhost:8080 ping903 alice pw\n", `* "a b" "c\"d" e`, "http://*/x * u p\n# c\n", "[::1]:1 u p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ParseCredFile(strings.NewReader(s), "f")
		if err != nil {
			return
		}
		for _, e := range es {
			if e.User == "" || strings.Contains(e.User, ":") || e.Line < 1 {
				t.Fatalf("%q: %+v", s, e)
			}
		}
	})
}

func TestBasicFile(t *testing.T) {
	bc, err := bcrypt.GenerateFromPassword([]byte("bcrypt-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	sha, _ := shaCrypt("sha-pw", "$6$abcdefgh")
	dir := t.TempDir()
	path := filepath.Join(dir, "ping903.cred")
	content := "* ping903 alice " + sha + "\n" +
		"* * bob $2y$" + string(bc)[4:] + "\n" +
		"http://*/config/ip-list ping903 admin " + sha + "\n" +
		"* otherrealm carol " + sha + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBasicFile(path, "ping903")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user, pw, path string
		ok             bool
	}{
		{"alice", "sha-pw", "/host", true},
		{"alice", "sha-pw", "/host", true}, // from the memory of verified pairs
		{"alice", "wrong", "/host", false},
		{"bob", "bcrypt-pw", "/id", true},
		{"bob", "sha-pw", "/id", false},
		{"admin", "sha-pw", "/config/ip-list/192.0.2.1", true},
		{"admin", "sha-pw", "/host", false},
		{"carol", "sha-pw", "/host", false}, // another realm
		{"nobody", "sha-pw", "/host", false},
	} {
		if got := b.Check(tt.user, tt.pw, tt.path); got != tt.ok {
			t.Errorf("Check(%s, %s, %s) = %v", tt.user, tt.pw, tt.path, got)
		}
	}
	if err := os.WriteFile(path, []byte("* alice plaintext\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBasicFile(path, "ping903"); err == nil || !strings.Contains(err.Error(), ":1: the password of alice is not a bcrypt") {
		t.Errorf("clear-text password: %v", err)
	}
}
