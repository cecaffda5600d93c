package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// clients opens n connections to the server from 127.0.0.0/8 source
// addresses (so no address runs out of ports), prints "connected N", then
// echoes every byte it reads with one epoll loop until SIGTERM.
func clients(args []string) error {
	fs := flag.NewFlagSet("clients", flag.ExitOnError)
	server := fs.String("server", "", "ADDR:PORT of the server")
	n := fs.Int("n", 10000, "connections")
	_ = fs.Parse(args)
	ap, err := netip.ParseAddrPort(*server)
	if err != nil || !ap.Addr().Is4() {
		return fmt.Errorf("-server: want an IPv4 ADDR:PORT: %v", err)
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	dst := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	for i := range *n {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("socket %d: %w", i, err)
		}
		// 127.0.(i/250).(i%250+2): 250 connections per source address.
		src := &unix.SockaddrInet4{Addr: [4]byte{127, 0, byte(i / 250), byte(i%250 + 2)}}
		if err := unix.Bind(fd, src); err != nil {
			return fmt.Errorf("bind %d: %w", i, err)
		}
		if err := unix.Connect(fd, dst); err != nil {
			return fmt.Errorf("connect %d: %w", i, err)
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := unix.SetNonblock(fd, true); err != nil {
			return err
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return err
		}
	}
	fmt.Printf("connected %d\n", *n)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-stop; os.Exit(0) }()
	events := make([]unix.EpollEvent, 1024)
	buf := make([]byte, 256)
	for {
		k, err := unix.EpollWait(ep, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:k] {
			fd := int(ev.Fd)
			m, err := unix.Read(fd, buf)
			if m > 0 {
				_, _ = unix.Write(fd, buf[:m])
			}
			if m == 0 || err != nil && err != unix.EAGAIN {
				_ = unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, fd, nil)
				unix.Close(fd)
			}
		}
	}
}
