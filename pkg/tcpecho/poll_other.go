//go:build !linux

package tcpecho

import (
	"errors"
	"net"
)

// Without epoll every client has a reader goroutine (see poll_linux.go).
type poller struct{}

type fdConn struct{}

func newPoller() (*poller, error)                   { return nil, errors.New("no epoll on this system") }
func (*poller) wake()                               {}
func (*poller) wait(time.Duration, func(*conn))     {}
func (*poller) add(*conn, int) error                { return errors.New("no epoll") }
func (*poller) close()                              {}
func detach(*net.TCPConn, *poller) (*fdConn, error) { return nil, errors.New("no epoll") }
func (*fdConn) Read([]byte) (int, error)            { return 0, errors.New("no epoll") }
func (*fdConn) Write([]byte) (int, error)           { return 0, errors.New("no epoll") }
func (*fdConn) Close() error                        { return nil }
func (s *Server) readPolled(*conn)                  {}
