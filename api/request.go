package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pingapi/pingapi/pkg/target"
)

// pingRequest is a validated measurement request, from GET or POST.
type pingRequest struct {
	Target  target.Target
	Count   int           // 1..MaxCount echoes, one per second
	Family  target.Family // 0 any, 4 or 6
	Packets bool          // include per-packet results in the summary
	Stream  bool          // answer in NDJSON, one line per echo
}

// pingBody is the JSON body of POST /pingapi. c and family may be JSON
// numbers or numeric strings ("5"), as the original pingapi's clients send.
// Unknown fields are ignored.
type pingBody struct {
	IP      string  `json:"ip" example:"example.com" binding:"required"`                              // IPv4/IPv6 literal or RFC 1123 hostname
	C       flexInt `json:"c" swaggertype:"integer" minimum:"1" maximum:"59" default:"5" example:"5"` // echoes (= seconds); number or numeric string
	Family  flexInt `json:"family" swaggertype:"integer" enums:"4,6" example:"4"`                     // address family of a hostname; number or numeric string
	Packets bool    `json:"packets" example:"false"`                                                  // include per-packet results
}

// flexInt holds the text of a JSON number or string; it is validated after
// decoding so the error can say 400 (not an integer) or 422 (out of range).
type flexInt struct {
	text string
	set  bool
}

// UnmarshalJSON accepts a number, a string or null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = flexInt{}
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexInt{text: s, set: true}
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*f = flexInt{text: string(b), set: true}
	default:
		return errors.New("must be a number or a numeric string")
	}
	return nil
}

// parseCount validates c: default DefaultCount, an integer in 1..MaxCount.
func parseCount(text string, set bool) (int, error) {
	if !set {
		return DefaultCount, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(text))
	var ne *strconv.NumError
	if err != nil && (!errors.As(err, &ne) || ne.Err != strconv.ErrRange) {
		return 0, newError(http.StatusBadRequest, CodeInvalidParameter,
			"c must be an integer from 1 to "+strconv.Itoa(MaxCount)+", got \""+clip(text, 32)+"\"", err)
	}
	if err != nil || n < 1 || n > MaxCount {
		return 0, newError(http.StatusUnprocessableEntity, CodeOutOfRange,
			"c must be from 1 to "+strconv.Itoa(MaxCount)+", got "+clip(strings.TrimSpace(text), 32), err)
	}
	return n, nil
}

func parseFamily(text string, set bool) (target.Family, error) {
	if !set {
		return 0, nil
	}
	f, err := target.ParseFamily(text)
	if err != nil {
		return 0, newError(http.StatusBadRequest, CodeInvalidParameter, "family must be 4 or 6, got \""+clip(text, 16)+"\"", err)
	}
	return f, nil
}

func parseBool(name, text string, set bool) (bool, error) {
	if !set {
		return false, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(text))
	if err != nil {
		return false, newError(http.StatusBadRequest, CodeInvalidParameter, name+" must be true or false, got \""+clip(text, 16)+"\"", err)
	}
	return b, nil
}

func parseTarget(s string) (target.Target, error) {
	if strings.TrimSpace(s) == "" {
		return target.Target{}, newError(http.StatusBadRequest, CodeInvalidTarget, "a target (IP address or hostname) is required", nil)
	}
	t, err := target.Parse(s)
	if err != nil {
		// target's messages are written for clients: they say why, and clip the input.
		return target.Target{}, newError(http.StatusBadRequest, CodeInvalidTarget, err.Error(), err)
	}
	return t, nil
}

// queryValue returns the first value of name in q and whether it is present.
func queryValue(q url.Values, name string) (string, bool) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// parseQueryOptions reads c, family, packets and stream from the query.
func parseQueryOptions(q url.Values, accept string) (pingRequest, error) {
	var r pingRequest
	var err error
	if r.Count, err = parseCount(queryValue(q, "c")); err != nil {
		return r, err
	}
	if r.Family, err = parseFamily(queryValue(q, "family")); err != nil {
		return r, err
	}
	v, ok := queryValue(q, "packets")
	if r.Packets, err = parseBool("packets", v, ok); err != nil {
		return r, err
	}
	v, ok = queryValue(q, "stream")
	if r.Stream, err = parseBool("stream", v, ok); err != nil {
		return r, err
	}
	r.Stream = r.Stream || acceptsNDJSON(accept)
	return r, nil
}

// parseQuery parses a raw query string strictly: url.URL.Query drops the
// pairs it cannot parse ("c=1;family=6", "%zz"), which would silently turn
// c=1 into the default 5.
func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, newError(http.StatusBadRequest, CodeInvalidParameter,
			"the query string is malformed: separate parameters with & and %-encode reserved characters", err)
	}
	return q, nil
}

// checkLiteralFamily refuses an IP literal of the other family than the one
// asked for, as part of validating the request (before admission or any
// lookup). IPv4-mapped IPv6 literals count as IPv4, as the resolver treats
// them.
func checkLiteralFamily(t target.Target, fam target.Family) error {
	if !t.IsLiteral() || fam == 0 {
		return nil
	}
	is4 := t.Addr.Unmap().Is4()
	if fam == 4 && is4 || fam == 6 && !is4 {
		return nil
	}
	have := "IPv6"
	if is4 {
		have = "IPv4"
	}
	return newError(http.StatusBadRequest, CodeInvalidTarget,
		clip(t.Input, 64)+" is an "+have+" address but family="+strconv.Itoa(int(fam))+" was requested", nil)
}

// parseGet validates GET /pingapi/{target}.
func parseGet(rawTarget string, q url.Values, accept string) (pingRequest, error) {
	t, err := parseTarget(rawTarget)
	if err != nil {
		return pingRequest{}, err
	}
	r, err := parseQueryOptions(q, accept)
	if err != nil {
		return r, err
	}
	r.Target = t
	return r, checkLiteralFamily(r.Target, r.Family)
}

// parsePost validates POST /pingapi: content type, body size (body must
// already be limited with http.MaxBytesReader), JSON, then the fields. The
// query may add packets and stream.
func parsePost(contentType string, body io.Reader, q url.Values, accept string) (pingRequest, error) {
	if err := requireJSON(contentType); err != nil {
		return pingRequest{}, err
	}
	var b pingBody
	dec := json.NewDecoder(body)
	if err := dec.Decode(&b); err != nil {
		return pingRequest{}, bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return pingRequest{}, bodyError(err)
		}
		return pingRequest{}, newError(http.StatusBadRequest, CodeInvalidJSON, "the body must hold exactly one JSON object", err)
	}
	r, err := parseQueryOptions(q, accept)
	if err != nil {
		return r, err
	}
	if r.Target, err = parseTarget(b.IP); err != nil {
		return r, err
	}
	if r.Count, err = parseCount(b.C.text, b.C.set); err != nil {
		return r, err
	}
	if b.Family.set {
		if r.Family, err = parseFamily(b.Family.text, true); err != nil {
			return r, err
		}
	}
	r.Packets = r.Packets || b.Packets
	return r, checkLiteralFamily(r.Target, r.Family)
}

// bodyError classifies a JSON decoding failure.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"the body is larger than "+strconv.FormatInt(mbe.Limit, 10)+" bytes", err)
	case errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the body is empty; send {\"ip\": \"...\", \"c\": 5}", err)
	case errors.As(err, &te) && te.Field == "":
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the body must be a JSON object {\"ip\": \"...\", \"c\": 5}", err)
	case errors.As(err, &te):
		return newError(http.StatusBadRequest, CodeInvalidJSON, "field "+clip(te.Field, 32)+" has the wrong type ("+te.Value+")", err)
	}
	return newError(http.StatusBadRequest, CodeInvalidJSON, "the body is not a valid JSON object {\"ip\": \"...\", \"c\": 5}", err)
}

// requireJSON is the one Content-Type rule of every route that takes a
// body: application/json or a +json type (RFC 6839), parameters allowed; a
// missing or other type is a 415.
func requireJSON(contentType string) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
		"the body must be JSON: send Content-Type: application/json", err)
}

// acceptsNDJSON reports whether an Accept header lists application/x-ndjson
// (q=0 excluded).
func acceptsNDJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != "application/x-ndjson" {
			continue
		}
		if q, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f <= 0 {
				continue
			}
		}
		return true
	}
	return false
}
