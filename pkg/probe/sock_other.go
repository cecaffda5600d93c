//go:build !linux

package probe

import "fmt"

// openConn is only implemented on Linux.
func openConn(family int, mode SocketMode, rcvbuf int) (packetConn, error) {
	return nil, fmt.Errorf("%w (IPv%d): only Linux is supported", ErrNoSocket, family)
}

func buildOOB(v6 bool, req Request) []byte { return nil }
