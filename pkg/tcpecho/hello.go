package tcpecho

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The hello of the authenticated mode: after the TLS handshake the agent
// sends one line
//
//	PINGAPI-ECHO/1 <scheme> <credential> <name>\n
//
// where scheme is Bearer (credential: a JWT) or Key (an archive key), and
// name is 1 to 64 of [A-Za-z0-9._-]. The server answers "OK\n" and the echo
// starts (the server sends probe bytes, the agent echoes each), or
// "ERR <code>\n" and closes. Codes: bad_hello, unauthorized, forbidden,
// unavailable (try again later), busy.
const (
	HelloVersion  = "PINGAPI-ECHO/1"
	MaxHelloBytes = 8192 // the whole line, newline included
	MaxNameLen    = 64
)

// Hello is a parsed hello line.
type Hello struct {
	Scheme     string // "Bearer" or "Key"
	Credential string
	Name       string
}

// ErrBadHello wraps every ParseHello rejection.
var ErrBadHello = errors.New("bad hello")

// Errors an Authenticator may wrap to choose the agent's answer: ErrForbidden
// (valid credential, wrong scope) and ErrUnavailable (cannot check now,
// e.g. signing keys not loaded). Anything else is "unauthorized".
var (
	ErrForbidden   = errors.New("forbidden")
	ErrUnavailable = errors.New("unavailable")
)

// ParseHello parses one hello line (without its newline; a trailing \r is
// allowed). It accepts exactly four space-separated fields.
func ParseHello(line string) (Hello, error) {
	line = strings.TrimSuffix(line, "\r")
	if len(line) >= MaxHelloBytes {
		return Hello{}, fmt.Errorf("%w: longer than %d bytes", ErrBadHello, MaxHelloBytes)
	}
	f := strings.Split(line, " ")
	if len(f) != 4 || f[0] != HelloVersion {
		return Hello{}, fmt.Errorf("%w: want %q", ErrBadHello, HelloVersion+" <scheme> <credential> <name>")
	}
	h := Hello{Scheme: f[1], Credential: f[2], Name: f[3]}
	if h.Scheme != "Bearer" && h.Scheme != "Key" {
		return Hello{}, fmt.Errorf("%w: scheme must be Bearer or Key", ErrBadHello)
	}
	if h.Credential == "" || !printable(h.Credential) {
		return Hello{}, fmt.Errorf("%w: empty or unprintable credential", ErrBadHello)
	}
	if err := CheckName(h.Name); err != nil {
		return Hello{}, err
	}
	return h, nil
}

// CheckName reports whether name is a valid agent name: 1 to 64 of
// [A-Za-z0-9._-].
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: name must be 1 to %d characters", ErrBadHello, MaxNameLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%w: name may contain only letters, digits, '.', '_' and '-'", ErrBadHello)
		}
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// FormatHello is the line an agent sends, newline included.
func FormatHello(h Hello) string {
	return HelloVersion + " " + h.Scheme + " " + h.Credential + " " + h.Name + "\n"
}

// readLine reads up to and including '\n', at most max bytes, one byte at a
// time (the TLS layer buffers, so this costs no system calls), so that no
// byte after the line is consumed.
func readLine(r io.Reader, max int) (string, error) {
	var b strings.Builder
	var one [1]byte
	for b.Len() < max {
		if _, err := io.ReadFull(r, one[:]); err != nil {
			return "", err
		}
		if one[0] == '\n' {
			return b.String(), nil
		}
		b.WriteByte(one[0])
	}
	return "", fmt.Errorf("%w: no newline within %d bytes", ErrBadHello, max)
}

// hello runs the TLS handshake and the hello of c within HelloTimeout and
// registers c as a client on success. It reports whether c is now a client.
func (s *Server) hello(c *conn, cfg *tls.Config) bool {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.HelloTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = c.sock.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	tc := tls.Server(c.sock, cfg)
	fail := func(code, why string, err error) bool {
		s.counts.authFailed.Add(1)
		s.log.Info("tcpecho: agent refused", "addr", c.addr, "code", code, "why", why, "err", err)
		if code != "" {
			_, _ = io.WriteString(tc, "ERR "+code+"\n")
		}
		_ = tc.Close()
		return false
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.sock.SetLinger(0)
		return fail("", "TLS handshake", err)
	}
	line, err := readLine(tc, MaxHelloBytes)
	if err != nil {
		return fail("bad_hello", "reading the hello", err)
	}
	h, err := ParseHello(line)
	if err != nil {
		return fail("bad_hello", "parsing the hello", err)
	}
	subj, err := s.opts.Auth.Authenticate(ctx, h.Scheme, h.Credential)
	switch {
	case errors.Is(err, ErrForbidden):
		return fail("forbidden", "credential lacks the scope", err)
	case errors.Is(err, ErrUnavailable):
		return fail("unavailable", "cannot check credentials now", err)
	case err != nil:
		return fail("unauthorized", "credential rejected", err)
	}
	if !stop() || c.sock.SetDeadline(time.Time{}) != nil {
		return fail("", "hello timed out", context.DeadlineExceeded)
	}
	if _, err := io.WriteString(tc, "OK\n"); err != nil {
		return fail("", "writing OK", err)
	}
	c.name, c.key, c.subj, c.rw = h.Name, h.Name, subj, tc
	s.start(c)
	return true
}
