package monitor

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
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
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	var names []string
	for line := 1; sc.Scan(); line++ {
		name, ok, err := parseIPListLine(sc.Text())
		if err != nil {
			return nil, &LineError{Line: line, Msg: err.Error()}
		}
		if ok {
			names = append(names, name)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading ip-list: %w", err)
	}
	return names, nil
}

// parseIPListLine returns the entry on one ip-list line, ok false for a blank
// or comment line.
func parseIPListLine(s string) (name string, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '#' {
		return "", false, nil
	}
	if err := ValidateName(s); err != nil {
		return "", false, err
	}
	return s, true, nil
}

// ValidateName checks that s is an IP address literal or a hostname, as
// ip-list entries and API arguments must be. It performs no lookup.
func ValidateName(s string) error {
	if s == "" {
		return fmt.Errorf("empty host name")
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("host name longer than %d bytes", MaxNameLen)
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if _, err := target.Parse(s); err != nil {
		return fmt.Errorf("%q is not an IP address nor a hostname", s)
	}
	return nil
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
