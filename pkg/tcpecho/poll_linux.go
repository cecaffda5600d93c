//go:build linux

package tcpecho

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// poller is the scheduler's epoll set. Plain clients leave Go's netpoller
// (their descriptor is duplicated and the net.Conn closed) and are read by
// the scheduler goroutine itself, between its sends, with a non-blocking
// epoll_wait at each of its wake-ups: no goroutine, and no thread wake-up,
// per echo. A goroutine per client costs a context switch or two per echo,
// which bench/tcpecho measured as most of an echo's CPU time.
type poller struct {
	ep     int
	events [256]unix.EpollEvent

	mu    sync.Mutex
	conns []*conn // polled clients, indexed by descriptor
}

func newPoller() (*poller, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	return &poller{ep: ep}, nil
}

// harvest calls ready for each polled client with data or a hang-up,
// without waiting.
func (p *poller) harvest(ready func(*conn)) {
	for {
		n, err := unix.EpollWait(p.ep, p.events[:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		for _, e := range p.events[:n] {
			var c *conn
			p.mu.Lock()
			if int(e.Fd) < len(p.conns) {
				c = p.conns[e.Fd]
			}
			p.mu.Unlock()
			if c != nil {
				ready(c)
			}
		}
		if n < len(p.events) {
			return
		}
	}
}

// add polls c (level-triggered: data left after a read is reported again).
func (p *poller) add(c *conn, fd int) error {
	p.mu.Lock()
	if fd >= len(p.conns) {
		p.conns = append(p.conns, make([]*conn, fd+1-len(p.conns)+len(p.conns)/2)...)
	}
	p.conns[fd] = c
	p.mu.Unlock()
	err := unix.EpollCtl(p.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)})
	if err != nil {
		p.remove(fd)
	}
	return err
}

func (p *poller) remove(fd int) {
	p.mu.Lock()
	if fd < len(p.conns) {
		p.conns[fd] = nil
	}
	p.mu.Unlock()
	_ = unix.EpollCtl(p.ep, unix.EPOLL_CTL_DEL, fd, nil)
}

func (p *poller) close() { unix.Close(p.ep) }

// fdConn is a polled client's socket: reads with recvmsg (the kernel's
// receive timestamp comes with the data), writes that never block, and
// TCP_INFO, all on the raw descriptor without allocating. Only the
// scheduler goroutine reads and writes it (Close may come from Close
// after the scheduler has stopped).
type fdConn struct {
	fd   int
	p    *poller
	oob  [64]byte
	info unix.TCPInfo
	once sync.Once
}

// detach takes c's descriptor out of Go's netpoller: a non-blocking
// duplicate, and c closed.
func detach(c *net.TCPConn, p *poller) (*fdConn, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := raw.Control(func(s uintptr) {
		fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	_ = c.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	return &fdConn{fd: fd, p: p}, nil
}

// Write writes p in one non-blocking send; see sockConn.Write.
func (f *fdConn) Write(p []byte) (int, error) {
	n, err := unix.Write(f.fd, p)
	if err == unix.EAGAIN || err == nil && n < len(p) {
		return max(n, 0), errSendBufferFull
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Read is not used: the scheduler reads with recv.
func (f *fdConn) Read([]byte) (int, error) { return 0, errors.New("tcpecho: polled socket") }

// Close stops polling and closes the descriptor, once.
func (f *fdConn) Close() error {
	f.once.Do(func() {
		f.p.remove(f.fd)
		unix.Close(f.fd)
	})
	return nil
}

// recv reads into b: n > 0 with the kernel receive timestamp (wall ns, 0
// if none); n == 0 and err nil at end of stream; err EAGAIN when nothing
// is there after all.
func (f *fdConn) recv(b []byte) (n int, rx int64, err error) {
	n, oobn, _, _, err := unix.Recvmsg(f.fd, b, f.oob[:], 0)
	if err != nil || n <= 0 {
		return 0, 0, err
	}
	return n, rxStamp(f.oob[:oobn]), nil
}

// kernelInfo reads TCP_INFO into the reused buffer.
func (f *fdConn) kernelInfo() (Kernel, error) {
	l := uint32(unsafe.Sizeof(f.info))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(f.fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&f.info)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return Kernel{}, fmt.Errorf("TCP_INFO: %w", e)
	}
	return kernelOf(&f.info), nil
}

// kernelOf converts TCP_INFO.
func kernelOf(info *unix.TCPInfo) Kernel {
	return Kernel{
		Valid:        true,
		RTT:          time.Duration(info.Rtt) * time.Microsecond,
		RTTVar:       time.Duration(info.Rttvar) * time.Microsecond,
		MinRTT:       time.Duration(info.Min_rtt) * time.Microsecond,
		Retransmits:  int(info.Retransmits),
		TotalRetrans: int64(info.Total_retrans),
	}
}

// readPolled is the scheduler's read of a polled client that has data.
func (s *Server) readPolled(c *conn) {
	f := c.fd
	n, rx, err := f.recv(s.pollBuf[:])
	if err == unix.EAGAIN || err == unix.EINTR {
		return
	}
	if n > 0 {
		now := s.opts.Now()
		k, _ := f.kernelInfo()
		matched, garbage := c.onEcho(s.pollBuf[:n], rx, s.epochWall, int64(now.Sub(s.epoch)), now, k, s.opts.MaxStray)
		s.counts.echoes.Add(int64(matched))
		if garbage {
			s.disconnect(c, ReasonGarbage)
		}
		return
	}
	if err == nil {
		s.disconnect(c, ReasonEOF)
	} else {
		s.disconnect(c, ReasonError)
	}
}
