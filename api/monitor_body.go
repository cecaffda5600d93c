package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// DefaultMonitorMaxBody is the default bound of a POST /config/ip-list body
// (MONITOR_MAX_BODY): 8 MiB holds the documented 100,000-host list as
// addresses (about 1.8 MB of IPv4, 4.5 MB of IPv6 literals) with room to
// spare. nginx/templates/default.conf.template applies the same bound.
const DefaultMonitorMaxBody = 8 << 20

// ipListRequest is a decoded POST /config/ip-list body.
type ipListRequest struct {
	names []string
	mode  string
	// bad is the 1-based index of the first element that is not a string
	// (0: none); names holds the elements before it.
	bad int
}

// errIPListShape is the public message of a body that is neither form.
const errIPListShape = `the body must be an array of names or {"ip-list": [...], "mode": "replace"|"append"}`

// decodeIPList reads a POST /config/ip-list body as a stream: an array of
// names or {"ip-list": [...], "mode": ...} (other members are ignored).
// Memory grows with the names only: no copy of the body is kept, and
// encoding/json's Decoder, which allocates about 120 bytes per element of
// an array, is not used for the elements. r must be bounded (an
// http.MaxBytesReader); maxNames bounds the names (0: none), so that a list
// longer than the monitor may hold is refused before it is all read.
func decodeIPList(r io.Reader, maxNames int) (ipListRequest, error) {
	out := ipListRequest{mode: "append"}
	l := &listReader{r: bufio.NewReaderSize(r, 32<<10), maxNames: maxNames}
	c, err := l.next()
	if err != nil {
		return out, ipListBodyError(err)
	}
	switch c {
	case '[':
		err = l.names(&out)
	case '{':
		err = l.object(&out)
	default:
		err = newError(http.StatusBadRequest, CodeInvalidJSON, errIPListShape, errors.New("want an array or an object"))
	}
	out.names = l.collected()
	if err != nil {
		return out, ipListBodyError(err)
	}
	if c, err := l.next(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the list: " + strconv.QuoteRune(rune(c)))
		}
		return out, ipListBodyError(err)
	}
	return out, nil
}

// listReader is a JSON reader for the two shapes of the body.
type listReader struct {
	r        *bufio.Reader
	maxNames int
	scratch  []byte // rawString's buffer, reused
	// chunks hold the names as they are read: a slice grown by append
	// would allocate about five times its final size on the way.
	chunks [][]string
	n      int
}

const nameChunk = 4096

func (l *listReader) add(s string) {
	if l.n%nameChunk == 0 {
		l.chunks = append(l.chunks, make([]string, 0, nameChunk))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, s)
	l.n++
}

// collected returns the names read, in one slice of their number.
func (l *listReader) collected() []string {
	out := make([]string, 0, l.n)
	for _, c := range l.chunks {
		out = append(out, c...)
	}
	l.chunks = nil
	return out
}

// next returns the next byte that is not JSON whitespace.
func (l *listReader) next() (byte, error) {
	for {
		c, err := l.r.ReadByte()
		if err != nil || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, err
		}
	}
}

// names reads the elements of an array, its '[' already read, up to its
// ']'. After an element that is not a string the rest is read (so a
// malformed body is still invalid JSON) but not kept.
func (l *listReader) names(out *ipListRequest) error {
	c, err := l.next()
	if err != nil || c == ']' {
		return err
	}
	for {
		if c == '"' && out.bad == 0 {
			if l.maxNames > 0 && l.n >= l.maxNames {
				return newError(http.StatusRequestEntityTooLarge, CodeTooManyHosts,
					"the list has more than "+strconv.Itoa(l.maxNames)+" names, more than the monitor may hold (MONITOR_MAX_HOSTS)", nil)
			}
			s, err := l.str()
			if err != nil {
				return err
			}
			l.add(s)
		} else {
			if out.bad == 0 {
				out.bad = l.n + 1
			}
			if err := l.skip(c); err != nil {
				return err
			}
		}
		if c, err = l.next(); err != nil {
			return err
		}
		switch c {
		case ']':
			return nil
		case ',':
			if c, err = l.next(); err != nil {
				return err
			}
		default:
			return errors.New("expected , or ] after an element")
		}
	}
}

// object reads the members of the object form, its '{' already read.
func (l *listReader) object(out *ipListRequest) error {
	sawList := false
	c, err := l.next()
	for err == nil && c != '}' {
		if c != '"' {
			return errors.New("expected a member name")
		}
		key, err := l.str()
		if err != nil {
			return err
		}
		if c, err = l.next(); err != nil || c != ':' {
			return errors.Join(err, errors.New("expected : after a member name"))
		}
		if c, err = l.next(); err != nil {
			return err
		}
		switch {
		case key == "ip-list" && c == '[':
			sawList = true
			if err := l.names(out); err != nil {
				return err
			}
		case key == "ip-list":
			return errors.New(`"ip-list" must be an array`)
		case key == "mode" && c == '"':
			if out.mode, err = l.str(); err != nil {
				return err
			}
			if out.mode == "" {
				out.mode = "append"
			}
		case key == "mode":
			return errors.New(`"mode" must be a string`)
		default:
			if err := l.skip(c); err != nil {
				return err
			}
		}
		if c, err = l.next(); err != nil {
			return err
		}
		if c == ',' {
			c, err = l.next()
		} else if c != '}' {
			return errors.New("expected , or } after a member")
		}
	}
	if err != nil {
		return err
	}
	if !sawList {
		return errors.New(`missing "ip-list"`)
	}
	return nil
}

// str reads a string, its opening quote already read. Escapes and invalid
// UTF-8 are decoded by encoding/json (rare in host names: the fast path
// copies the bytes).
func (l *listReader) str() (string, error) {
	raw, escaped, err := l.rawString()
	if err != nil {
		return "", err
	}
	if !escaped && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err = json.Unmarshal(raw, &s)
	return s, err
}

// rawString returns a string with its quotes, the opening one already
// read. The returned slice is valid until the next read.
func (l *listReader) rawString() (raw []byte, escaped bool, err error) {
	buf := append(l.scratch[:0], '"')
	for {
		c, err := l.r.ReadByte()
		switch {
		case err != nil:
			return nil, false, err
		case c < 0x20:
			return nil, false, errors.New("control character in a string")
		case c == '\\':
			escaped = true
			buf = append(buf, c)
			if c, err = l.r.ReadByte(); err != nil {
				return nil, false, err
			}
		case c == '"':
			buf = append(buf, c)
			l.scratch = buf
			return buf, escaped, nil
		}
		buf = append(buf, c)
	}
}

// skip reads one value starting with c (already read) and checks that it
// is valid JSON, without keeping it.
func (l *listReader) skip(c byte) error {
	raw := []byte{c}
	depth := 0
	switch c {
	case '"':
		s, _, err := l.rawString()
		if err != nil {
			return err
		}
		raw = append(raw[:0], s...)
	case '[', '{':
		depth = 1
	}
	for depth > 0 {
		c, err := l.r.ReadByte()
		if err != nil {
			return err
		}
		switch c {
		case '"':
			s, _, err := l.rawString()
			if err != nil {
				return err
			}
			raw = append(raw, s...)
			continue
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		}
		raw = append(raw, c)
	}
	if c != '"' && c != '[' && c != '{' { // a number or a literal: up to a delimiter
		for {
			b, err := l.r.Peek(1)
			if err != nil || b[0] == ',' || b[0] == ']' || b[0] == '}' || b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r' {
				break
			}
			l.r.ReadByte()
			raw = append(raw, b[0])
		}
	}
	if !json.Valid(raw) {
		return errors.New("invalid JSON value")
	}
	return nil
}

// ipListBodyError classifies a failure to read the body.
func ipListBodyError(err error) error {
	var mbe *http.MaxBytesError
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &mbe):
		return newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"the body is larger than "+strconv.FormatInt(mbe.Limit, 10)+" bytes (MONITOR_MAX_BODY)", err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the body ends early: "+errIPListShape, err)
	}
	return newError(http.StatusBadRequest, CodeInvalidJSON, errIPListShape, err)
}
