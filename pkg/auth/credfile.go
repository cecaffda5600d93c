package auth

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
)

// CredEntry is one line of a Ping903-style credentials file (ping903.cred):
//
//	# WHERE             [REALM]   USER    PASSWORD
//	localhost:8080      ping903   alice   "s3cret word"
//	http://*/config/    *         admin   $6$salt$...
//	*                             bob     guessme
//
// WHERE is "*", a host, host:port, or a URL whose path, if any, is a prefix
// of the request paths the entry applies to (host "*" for any). REALM ("*"
// for any) may be left out. Fields are separated by blanks; a field may be
// double-quoted (with \" and \\ inside). '#' starts a comment line.
//
// The client (ping903q, `pingapi query`) keeps plain passwords in it; the
// server (MONITOR_BASIC_AUTH_FILE) keeps hashes (see BasicFile).
type CredEntry struct {
	Host     string // "" for any; without brackets for IPv6
	Port     string // "" for any
	Path     string // "" or a prefix of the request path, starting with "/"
	Realm    string // "" for any
	User     string
	Password string
	Line     int
}

// ParseCredFile reads a credentials file; name prefixes its errors.
func ParseCredFile(r io.Reader, name string) ([]CredEntry, error) {
	var out []CredEntry
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		f, err := splitCredFields(s)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if len(f) != 3 && len(f) != 4 {
			return nil, fmt.Errorf("%s:%d: want WHERE [REALM] USER PASSWORD, got %d fields", name, line, len(f))
		}
		e := CredEntry{Line: line, User: f[len(f)-2], Password: f[len(f)-1]}
		if len(f) == 4 && f[1] != "*" {
			e.Realm = f[1]
		}
		if err := e.parseWhere(f[0]); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if e.User == "" || strings.Contains(e.User, ":") {
			return nil, fmt.Errorf("%s:%d: the user name must be non-empty and without ':'", name, line)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return out, nil
}

func (e *CredEntry) parseWhere(w string) error {
	if w == "*" {
		return nil
	}
	hostport := w
	if strings.Contains(w, "://") {
		u, err := url.Parse(strings.Replace(w, "://*", "://any.invalid", 1))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q is not an http(s) URL, a host or host:port", w)
		}
		hostport, e.Path = strings.Replace(u.Host, "any.invalid", "*", 1), u.Path
		if e.Port = u.Port(); e.Port == "" {
			e.Port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		e.Host = strings.Trim(strings.TrimSuffix(hostport, ":"+u.Port()), "[]")
		if e.Host == "*" {
			e.Host = ""
		}
		return nil
	}
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		e.Host, e.Port = h, p
	} else {
		e.Host = strings.Trim(hostport, "[]")
	}
	if e.Host == "*" {
		e.Host = ""
	}
	return nil
}

// splitCredFields splits on blanks, honouring double quotes.
func splitCredFields(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		if s[0] != '"' {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			out = append(out, s[:end])
			s = s[end:]
			continue
		}
		var b strings.Builder
		i := 1
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
		if i >= len(s) {
			return nil, fmt.Errorf("unterminated quoted field")
		}
		out = append(out, b.String())
		s = s[i+1:]
	}
}

// FindCred returns the first entry for a request to host:port (port as a
// decimal string) at path in realm ("" when the client does not know it
// yet); entries with an empty field match anything there.
func FindCred(entries []CredEntry, host, port, path, realm string) (CredEntry, bool) {
	for _, e := range entries {
		if (e.Host == "" || strings.EqualFold(e.Host, host)) && (e.Port == "" || e.Port == port) &&
			(e.Path == "" || strings.HasPrefix(path, e.Path)) && (e.Realm == "" || realm == "" || e.Realm == realm) {
			return e, true
		}
	}
	return CredEntry{}, false
}
