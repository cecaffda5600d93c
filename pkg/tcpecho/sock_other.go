//go:build !linux

package tcpecho

import (
	"errors"
	"io"
	"net"
)

var errSendBufferFull = errors.New("send buffer full: the client does not read")

// sockConn is the portable fallback: no kernel timestamps, no TCP_INFO,
// and writes that may block up to a short deadline.
type sockConn struct {
	*net.TCPConn
	stamps bool
	lastRx int64
}

func newSockConn(c *net.TCPConn) (*sockConn, error) { return &sockConn{TCPConn: c}, nil }

func (s *sockConn) Read(p []byte) (int, error) {
	n, err := s.TCPConn.Read(p)
	if n == 0 && err == nil {
		return 0, io.EOF
	}
	return n, err
}

func (s *sockConn) kernelInfo() (Kernel, error) {
	return Kernel{}, errors.New("TCP_INFO: not on this system")
}
