// Package client is a typed Go client of pingapi's HTTP API: the monitor's
// Ping903-compatible routes and the on-demand /pingapi measurement. Errors
// tell apart a server that cannot be reached (ErrServerDown), a refused
// token (ErrTokenRefused) and a host that is not monitored (ErrNotMonitored);
// match them with errors.Is. A Client is safe for concurrent use.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pingapi/pingapi/pkg/wire"
)

// DefaultURL is the server address when none is configured.
const DefaultURL = "http://127.0.0.1:8080"

// Errors to match with errors.Is.
var (
	// ErrServerDown: the server could not be reached (connection refused,
	// no route, name resolution, timeout) or a proxy in front of it said so
	// (502, 504).
	ErrServerDown = errors.New("server unreachable")
	// ErrTokenRefused: the server refused the token: 401, or 403 for a
	// missing scope.
	ErrTokenRefused = errors.New("token refused")
	// ErrNotMonitored: the host is not in the monitor's list (404).
	ErrNotMonitored = errors.New("not monitored")
)

// Error is an error answer of the server.
type Error struct {
	Status  int    // HTTP status
	Code    string // the envelope's code; empty if the body was not the envelope
	Message string // the server's message, or the status text
	Index   int    // 1-based element of a batch, 0 if none
}

func (e *Error) Error() string {
	s := fmt.Sprintf("server answered %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Index > 0 {
		s += fmt.Sprintf(" (element %d)", e.Index)
	}
	return s
}

// Is maps statuses and codes to the package's sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrTokenRefused:
		return e.Status == http.StatusUnauthorized ||
			(e.Status == http.StatusForbidden && (e.Code == "" || e.Code == "insufficient_scope"))
	case ErrNotMonitored:
		return e.Status == http.StatusNotFound && (e.Code == "not_monitored" || e.Code == "")
	case ErrServerDown:
		return e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout
	}
	return false
}

// Client talks to one pingapi server.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
	basic BasicLookup // nil: no HTTP Basic
	realm string      // the realm to use without waiting for a challenge
}

// BasicLookup finds HTTP Basic credentials (RFC 7617) for a request to
// host:port at path in realm ("" when not known).
type BasicLookup func(host, port, path, realm string) (user, password string, ok bool)

// SetBasic makes the client answer a server's Basic challenge (a 401 with
// WWW-Authenticate: Basic realm="...") with the credentials lookup finds
// for that realm, as ping903q does, when it has no bearer token. With
// realm set (ping903q -R), credentials of that realm are sent at once.
// Call it before the client is used.
func (c *Client) SetBasic(lookup BasicLookup, realm string) { c.basic, c.realm = lookup, realm }

// New returns a client of the server at baseURL (scheme, host, optional
// path prefix) sending token as a Bearer token (none if empty). timeout
// bounds each request (0: 30 s); a context deadline may shorten it.
func New(baseURL, token string, timeout time.Duration) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultURL
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: want http://host:port or https://host", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &Client{base: u, token: token, http: &http.Client{Timeout: timeout}}, nil
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// do sends a request and decodes a 2xx JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body any, out any) error {
	resp, err := c.send(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("bad answer from the server: %w", err)
	}
	return nil
}

// send sends a request and returns a 2xx response, whose body the caller
// closes; any other status is returned as an *Error.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	realm := c.realm
	for try := 0; ; try++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		basic := false
		switch {
		case c.token != "":
			req.Header.Set("Authorization", "Bearer "+c.token)
		case c.basic != nil && realm != "":
			if user, pw, ok := c.basic(u.Hostname(), portOf(&u), u.Path, realm); ok {
				req.SetBasicAuth(user, pw)
				basic = true
			}
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w: %v", ErrServerDown, unwrapURLError(err))
		}
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return resp, nil
		}
		// A Basic challenge not answered yet: once more with credentials.
		if r, ok := basicRealm(resp.Header.Values("WWW-Authenticate")); ok && resp.StatusCode == http.StatusUnauthorized &&
			c.token == "" && c.basic != nil && !basic && try == 0 {
			if realm == "" {
				realm = r
			}
			if _, _, found := c.basic(u.Hostname(), portOf(&u), u.Path, realm); found {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				continue
			}
		}
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
}

// portOf is u's port, or its scheme's.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// basicRealm finds the realm of a Basic challenge among WWW-Authenticate
// values (RFC 7617 §2: Basic realm="...").
func basicRealm(values []string) (string, bool) {
	for _, v := range values {
		scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Basic") {
			continue
		}
		for p := range strings.SplitSeq(params, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "realm") {
				return strings.Trim(val, `"`), true
			}
		}
		return "", true
	}
	return "", false
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// decodeError reads an error answer: the envelope {"error":{"code",
// "message"}}, Ping903's {"message","index"}, or anything else.
func decodeError(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
		Index   int    `json:"index"`
	}
	if json.Unmarshal(b, &body) == nil {
		if body.Error != nil {
			e.Code, e.Message = body.Error.Code, body.Error.Message
		}
		if e.Message == "" {
			e.Message = body.Message
		}
		e.Index = body.Index
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// ID returns the server's identity (/id).
func (c *Client) ID(ctx context.Context) (wire.ID, error) {
	var id wire.ID
	return id, c.do(ctx, http.MethodGet, "/id", nil, nil, &id)
}

// Host returns the record of the host monitored under exactly name.
func (c *Client) Host(ctx context.Context, name string) (wire.Record, error) {
	recs, err := c.Hosts(ctx, name)
	if err != nil {
		return wire.Record{}, err
	}
	for _, r := range recs {
		if r.Name == name {
			return r, nil
		}
	}
	return wire.Record{}, &Error{Status: http.StatusNotFound, Code: "not_monitored", Message: "not monitored: " + name}
}

// Hosts returns the records of the monitored ones among names, in order
// (ErrNotMonitored when none is).
func (c *Client) Hosts(ctx context.Context, names ...string) ([]wire.Record, error) {
	if len(names) == 0 {
		return nil, errors.New("no host given")
	}
	q := url.Values{}
	if len(names) > 1 {
		q.Set("select", strings.Join(names[1:], ","))
	}
	var recs []wire.Record
	err := c.do(ctx, http.MethodGet, "/host/"+url.PathEscape(names[0]), q, nil, &recs)
	return recs, err
}

// AllHosts calls fn for every monitored host, reading the server's stream
// one record at a time (memory stays flat for 100,000 hosts).
func (c *Client) AllHosts(ctx context.Context, fn func(wire.Record) error) error {
	resp, err := c.send(ctx, http.MethodGet, "/host", nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fmt.Errorf("bad answer from the server: want a JSON array")
	}
	for dec.More() {
		var r wire.Record
		if err := dec.Decode(&r); err != nil {
			return fmt.Errorf("bad answer from the server: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("bad answer from the server: %w", err)
	}
	return nil
}

// Page returns one page of host records (limit of them from offset).
func (c *Client) Page(ctx context.Context, offset, limit int) ([]wire.Record, error) {
	q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}}
	var recs []wire.Record
	return recs, c.do(ctx, http.MethodGet, "/host", q, nil, &recs)
}

// Match is one element of the /match answer.
type Match struct {
	Name  string   `json:"name"`
	Hosts []string `json:"hosts"`
	Error string   `json:"error,omitempty"`
}

// Match returns the monitored names of each of names (addresses or
// hostnames).
func (c *Client) Match(ctx context.Context, names ...string) ([]Match, error) {
	if len(names) == 0 {
		return nil, errors.New("no host given")
	}
	q := url.Values{}
	if len(names) > 1 {
		q.Set("select", strings.Join(names[1:], ","))
	}
	var out []Match
	return out, c.do(ctx, http.MethodGet, "/match/"+url.PathEscape(names[0]), q, nil, &out)
}

// Config is the monitor's running configuration (intervals in seconds).
type Config struct {
	ProbeInterval float64  `json:"probe-interval"`
	PingCount     int      `json:"ping-count"`
	PingInterval  float64  `json:"ping-interval"`
	Tolerance     int      `json:"tolerance"`
	DataLength    int      `json:"data-length"`
	Listen        string   `json:"listen"`
	IPList        []string `json:"ip-list"`
	Immutable     []string `json:"immutable-ip-list"`
	Mutable       []string `json:"mutable-ip-list"`
}

// Config returns the running configuration (/config).
func (c *Client) Config(ctx context.Context) (Config, error) {
	var cfg Config
	return cfg, c.do(ctx, http.MethodGet, "/config", nil, nil, &cfg)
}

// Add adds name to the mutable ip-list (PUT /config/ip-list/NAME).
func (c *Client) Add(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPut, "/config/ip-list/"+url.PathEscape(name), nil, nil, nil)
}

// Delete removes name from the mutable ip-list.
func (c *Client) Delete(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/config/ip-list/"+url.PathEscape(name), nil, nil, nil)
}

// Update appends names to the mutable ip-list, or replaces it when replace
// is true (POST /config/ip-list). A bad element is an *Error with Index.
func (c *Client) Update(ctx context.Context, names []string, replace bool) error {
	mode := "append"
	if replace {
		mode = "replace"
	}
	body := map[string]any{"ip-list": names, "mode": mode}
	return c.do(ctx, http.MethodPost, "/config/ip-list", nil, body, nil)
}

// Measure runs an on-demand measurement of count echoes, one per second
// (GET /pingapi/{target}?c=count). The client's timeout must exceed count
// seconds.
func (c *Client) Measure(ctx context.Context, target string, count int) (wire.Measurement, error) {
	var m wire.Measurement
	q := url.Values{"c": {strconv.Itoa(count)}}
	return m, c.do(ctx, http.MethodGet, "/pingapi/"+url.PathEscape(target), q, nil, &m)
}
