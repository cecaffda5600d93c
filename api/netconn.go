package api

import (
	"bytes"
	"encoding/json"
	"net"
	"strconv"
)

// Listener wraps ln so that the answers net/http writes on its own, before
// any handler runs, carry the JSON envelope like every other error: a 400
// for a request it cannot read (malformed request line, an invalid escape
// in the path, a duplicate or negative Content-Length, a missing Host), a
// 431 for headers over MaxHeaderBytes, a 501 for an unknown transfer
// coding. net/http offers no hook for these; it writes each in one Write
// with a fixed header block, which a served response never has (net/http
// sorts a response's headers, and Connection comes before Content-Type),
// so the wrapper recognises them exactly and leaves everything else as is.
// serve and the tests serve through it.
func (s *Server) Listener(ln net.Listener) net.Listener { return envelopeListener{ln} }

type envelopeListener struct{ net.Listener }

func (l envelopeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return envelopeConn{c}, nil
}

// envelopeConn rewrites net/http's own plain-text error answers.
type envelopeConn struct{ net.Conn }

// netHTTPErrorHeaders is the header block of net/http's own error answers
// (net/http/server.go, conn.serve).
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c envelopeConn) Write(p []byte) (int, error) {
	if len(p) < 13 || !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) || p[9] != '4' && p[9] != '5' {
		return c.Conn.Write(p)
	}
	i := bytes.Index(p, []byte(netHTTPErrorHeaders))
	if i < 0 || bytes.IndexByte(p[:i], '\n') >= 0 {
		return c.Conn.Write(p) // not the status line followed by that block
	}
	status, err := strconv.Atoi(string(p[9:12]))
	if err != nil {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(netHTTPEnvelope(status, string(p[9:i]))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite lets net/http half-close the connection after a 431, as it
// does on a bare TCP connection.
func (c envelopeConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// netHTTPEnvelope is the answer to write instead of net/http's: the same
// status, the envelope, and the connection closed (net/http closes it).
// statusLine is net/http's, e.g. "400 Bad Request: missing required Host
// header"; its detail is net/http's own text, never the client's bytes.
func netHTTPEnvelope(status int, statusLine string) []byte {
	code, msg := CodeBadRequest, "the request could not be read as HTTP/1.1 (malformed request line, URL escape, header or Content-Length)"
	switch status {
	case 431:
		code, msg = CodeHeadersTooLarge, "the request headers are larger than "+strconv.Itoa(MaxHeaderBytes>>10)+" KiB"
	case 501:
		code, msg = CodeNotImplemented, "unsupported transfer encoding"
	default:
		if _, detail, ok := bytes.Cut([]byte(statusLine), []byte(": ")); ok {
			msg = "the request could not be read: " + clip(string(detail), 100)
		}
	}
	e := newError(status, code, msg, nil)
	body, _ := json.Marshal(envelope(e))
	text := statusLine
	if i := bytes.IndexByte([]byte(text), ':'); i >= 0 {
		text = text[:i]
	}
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + text + "\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)+1) +
		"\r\nContent-Type: application/json; charset=utf-8\r\n\r\n")
	b.Write(body)
	b.WriteByte('\n')
	return b.Bytes()
}
