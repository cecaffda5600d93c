//go:build linux

package probe

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgSend holds the arrays of one sendmmsg call (loop goroutine only).
type mmsgSend struct {
	hdrs [maxSendBatch]mmsghdr
	iovs [maxSendBatch]unix.Iovec
	sa4  [maxSendBatch]unix.RawSockaddrInet4
	sa6  [maxSendBatch]unix.RawSockaddrInet6
}

// sendMany implements batchConn: the requests go to the kernel with
// sendmmsg, one system call for the batch instead of one each. Each
// request's send time is still its own: the kernel's transmit timestamp
// (SO_TIMESTAMPING, read from the error queue). The user-space time taken
// before the call is only the fallback for a missing stamp, so a socket
// without transmit stamps sends one by one, each time read just before
// its own sendmsg.
func (c *sysConn) sendMany(msgs []outMsg, walls []int64, errs []error) {
	if !c.txStamps {
		for i := range msgs {
			walls[i], errs[i] = c.send(msgs[i].msg, msgs[i].oob, msgs[i].dst)
		}
		return
	}
	if c.mm == nil {
		c.mm = new(mmsgSend)
	}
	mm := c.mm
	n := min(len(msgs), maxSendBatch)
	for i := range n {
		o := &msgs[i]
		h := &mm.hdrs[i].hdr
		mm.iovs[i].Base = &o.msg[0]
		mm.iovs[i].SetLen(len(o.msg))
		h.Iov = &mm.iovs[i]
		h.SetIovlen(1)
		if len(o.oob) > 0 {
			h.Control = &o.oob[0]
			h.SetControllen(len(o.oob))
		} else {
			h.Control = nil
			h.SetControllen(0)
		}
		if c.v6 {
			mm.sa6[i] = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: o.dst.ip, Scope_id: o.dst.scope}
			h.Name = (*byte)(unsafe.Pointer(&mm.sa6[i]))
			h.Namelen = unix.SizeofSockaddrInet6
		} else {
			mm.sa4[i] = unix.RawSockaddrInet4{Family: unix.AF_INET}
			copy(mm.sa4[i].Addr[:], o.dst.ip[12:])
			h.Name = (*byte)(unsafe.Pointer(&mm.sa4[i]))
			h.Namelen = unix.SizeofSockaddrInet4
		}
		h.Flags = 0
	}
	tries := 0
	for i := 0; i < n; {
		wall := time.Now().UnixNano()
		// Raw, as sendmsg: the socket is non-blocking.
		r, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&mm.hdrs[i])),
			uintptr(n-i), 0, 0, 0)
		switch {
		case errno == 0 && r > 0:
			for k := i; k < i+int(r); k++ {
				walls[k], errs[k] = wall, nil
			}
			i += int(r)
			tries = 0
		case errno == unix.EINTR:
		case errno == unix.EAGAIN && tries < sendTries:
			tries++
			fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
			ts := unix.NsecToTimespec(int64(sendWait))
			_, _ = unix.Ppoll(fds, &ts, nil)
		default:
			// The first message of the rest failed: it alone is refused
			// (as its own sendmsg would have been), the others go on.
			if errno == 0 {
				errno = unix.EIO // sendmmsg returned 0 without an error: cannot happen
			}
			walls[i], errs[i] = wall, errno
			i++
			tries = 0
		}
	}
	for i := range n {
		mm.hdrs[i].hdr.Iov, mm.hdrs[i].hdr.Control = nil, nil // do not keep the batch's buffers
		mm.iovs[i].Base = nil
	}
}
