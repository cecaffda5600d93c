package monitor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pingapi/pingapi/pkg/target"
)

// MaxNameLen bounds one ip-list entry (an RFC 1123 hostname is at most 253
// bytes; an IPv6 literal far less).
const MaxNameLen = 253

// maxLineLen bounds a line of an ip-list or configuration file.
const maxLineLen = 64 << 10

// ParseIPList reads an ip-list: one IP address or hostname per line; leading
// and trailing whitespace, empty lines and lines whose first non-blank
// character is '#' are ignored. It returns the entries in file order. An
// invalid entry is reported as "LINE: message", LINE being 1-based.
func ParseIPList(r io.Reader) ([]string, error) {
	names, _, err := parseIPList(r)
	return names, err
}

// parseIPList is ParseIPList that also returns the line of each entry.
func parseIPList(r io.Reader) (names []string, lines []int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	for line := 1; sc.Scan(); line++ {
		name, ok, err := parseIPListLine(sc.Text())
		if err != nil {
			return nil, nil, &LineError{Line: line, Msg: err.Error()}
		}
		if ok {
			names = append(names, name)
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading ip-list: %w", err)
	}
	return names, lines, nil
}

// parseIPListLine returns the entry on one ip-list line, ok false for a blank
// or comment line.
func parseIPListLine(s string) (name string, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '#' {
		return "", false, nil
	}
	if name, err = canonicalName(s); err != nil {
		return "", false, err
	}
	return name, true, nil
}

// CanonicalName returns the one form under which a host is listed, stored
// and looked up, or an error wrapping ErrInvalid that says why s is not an
// IP address literal nor a hostname. Surrounding blanks (spaces, tabs) are
// removed; a control character anywhere (a line break) is refused, since
// the list is stored one name per line. The name itself is checked by
// pkg/target's parser, the one every route uses: hostnames come back
// lower-case without a trailing dot, addresses in their canonical text form
// (IPv4-mapped IPv6 as the IPv4 address). It performs no lookup.
func CanonicalName(s string) (string, error) {
	name, err := canonicalName(s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return name, nil
}

// canonicalName is CanonicalName with errors that only say why.
func canonicalName(s string) (string, error) {
	s = strings.Trim(s, " \t")
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%q contains a control character", clipName(s))
		}
	}
	switch {
	case s == "":
		return "", errors.New("empty host name")
	case len(s) > MaxNameLen:
		return "", fmt.Errorf("host name longer than %d bytes", MaxNameLen)
	}
	t, err := target.Parse(s)
	switch {
	case err != nil && strings.Contains(s, "%"):
		return "", fmt.Errorf("%q: IPv6 zones and %%-escapes are not accepted", clipName(s))
	case err != nil:
		return "", fmt.Errorf("%q is not an IP address nor a hostname", clipName(s))
	case t.IsLiteral():
		return t.Addr.Unmap().String(), nil
	}
	return t.Host, nil
}

// clipName bounds how much of a refused name an error repeats.
func clipName(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// LineError is a parse error at a line of an input file.
type LineError struct {
	File string // empty for an anonymous input
	Line int    // 1-based
	Msg  string
}

func (e *LineError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}
