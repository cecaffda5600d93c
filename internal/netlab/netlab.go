// Package netlab builds throw-away test networks: each Host is a network
// namespace joined to the test's own (root) namespace by a veth pair, with
// addresses that exist only on that pair, so tests can measure loss, delay
// and unreachability against known truth without sending a packet anywhere
// else. Everything is removed with t.Cleanup.
//
// Typical use:
//
//	h := netlab.NewHost(t, netlab.Options{})
//	h.DropEchoPercent(30) // or h.DropAll(), or r := h.Respond(delay)
//	... measure h.Addr4 / h.Addr6 and compare with the known truth ...
//
// To run code inside the host (a datagram-socket engine, say), use h.Do;
// h.Sysctl and h.Exec change the host's own settings only.
//
// It needs root (CAP_NET_ADMIN), iproute2 and, for the drop rules, nftables.
// Helpers skip the test with a one-line reason when those are missing, and
// fail it instead when the environment variable CI is "true".
//
// Hosts are safe to create from parallel tests and from concurrent test
// processes: names are random, and each Host takes a /30 in 10.200.0.0/16
// (and the matching /64 in fd00:200::/32) that no interface uses, chosen
// under a lock file shared by all test processes.
package netlab

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Unavailable skips t with a one-line reason, or fails it when the
// environment variable CI is "true": in CI every requirement of a test
// (root, an ICMP socket, nftables, PostgreSQL, Chromium, a peer tool) must
// be met, and a skip would hide that it was not. It is the project's one
// CI-aware skip; every test that lacks something calls it.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: not skipping)", reason)
		return
	}
	t.Skip(reason)
}

// SkipShort skips t in -short mode, except in CI (CI=true), where every
// test runs: for tests that are slow, not for tests that lack something.
func SkipShort(t testing.TB, reason string) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip(reason + " (skipped in -short mode)")
	}
}

// RequireRoot skips (or in CI fails) t unless the process is root and the
// ip command is available.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		Unavailable(t, "needs iproute2 (the ip command)")
	}
}

// Options configure NewHost. The zero value is a dual-stack host.
type Options struct {
	NoIPv6 bool // do not configure IPv6 addresses
}

// Host is a network namespace reachable from the test's namespace. Its
// methods may be called from the test goroutine; they fail the test on
// error.
type Host struct {
	Name   string     // network namespace name (ip netns)
	Addr4  netip.Addr // the host's IPv4 address, inside the namespace
	Addr6  netip.Addr // the host's IPv6 address; invalid with NoIPv6
	Local4 netip.Addr // the test namespace's end of the link
	Local6 netip.Addr // the test namespace's IPv6 end; invalid with NoIPv6
	Link   string     // the test namespace's veth interface (for tcpdump -i)

	t testing.TB
}

// NewHost creates a namespace with loopback up and a veth link to the
// test's namespace, and registers its removal with t.Cleanup.
func NewHost(t testing.TB, opts Options) *Host {
	t.Helper()
	RequireRoot(t)
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%08x", binary.BigEndian.Uint32(rnd[:]))
	h := &Host{Name: "netlab-" + id, t: t}
	outer := "nl" + id // 10 bytes, under IFNAMSIZ
	h.Link = outer
	h.run("ip", "netns", "add", h.Name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", h.Name).CombinedOutput(); err != nil {
			t.Errorf("netlab: removing %s: %v: %s", h.Name, err, out)
		}
	})
	h.Exec("ip", "link", "set", "lo", "up")
	h.run("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", h.Name)

	// Take a free /30 (and /64) under a lock shared by every test process,
	// so that concurrent test binaries never pick the same subnet.
	lockDir := "/run/lock"
	if _, err := os.Stat(lockDir); err != nil {
		lockDir = "/tmp"
	}
	unlock := lockFile(t, lockDir+"/pingapi-netlab.lock")
	sub := h.freeSubnet(binary.BigEndian.Uint16(rnd[2:]))
	base := [4]byte{10, 200, byte(sub >> 6), byte(sub&63) << 2}
	h.Local4 = netip.AddrFrom4([4]byte{base[0], base[1], base[2], base[3] + 1})
	h.Addr4 = netip.AddrFrom4([4]byte{base[0], base[1], base[2], base[3] + 2})
	if !opts.NoIPv6 {
		p := [16]byte{0: 0xfd, 2: 0x02, 4: byte(sub >> 8), 5: byte(sub), 15: 1}
		h.Local6 = netip.AddrFrom16(p)
		p[15] = 2
		h.Addr6 = netip.AddrFrom16(p)
	}
	h.run("ip", "addr", "add", h.Local4.String()+"/30", "dev", outer)
	if !opts.NoIPv6 {
		h.run("ip", "addr", "add", h.Local6.String()+"/64", "dev", outer, "nodad")
	}
	unlock()
	h.Exec("ip", "addr", "add", h.Addr4.String()+"/30", "dev", "eth0")
	if !opts.NoIPv6 {
		h.Exec("ip", "addr", "add", h.Addr6.String()+"/64", "dev", "eth0", "nodad")
	}
	h.run("ip", "link", "set", outer, "up")
	h.Exec("ip", "link", "set", "eth0", "up")
	return h
}

// freeSubnet returns the index (0..16383) of a /30 in 10.200.0.0/16 that no
// interface of the test's namespace uses, starting from a random one.
func (h *Host) freeSubnet(start uint16) uint16 {
	h.t.Helper()
	used := h.run("ip", "-o", "-4", "addr", "show", "to", "10.200.0.0/16")
	for i := range uint16(1 << 14) {
		sub := (start + i) & 0x3fff
		pfx := fmt.Sprintf("inet 10.200.%d.%d/", sub>>6, (sub&63)<<2+1)
		if !strings.Contains(used, pfx) {
			return sub
		}
	}
	h.t.Fatalf("netlab: no free /30 left in 10.200.0.0/16")
	return 0
}

// lockFile takes an exclusive flock on path and returns its release.
func lockFile(t testing.TB, path string) (unlock func()) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatalf("netlab: lock %s: %v", path, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		t.Fatalf("netlab: lock %s: %v", path, err)
	}
	return func() { unix.Close(fd) } // closing releases the lock
}

// run runs a command in the test's namespace and fails the test on error.
func (h *Host) run(name string, args ...string) string {
	h.t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		h.t.Fatalf("netlab: %s %s: %v: %s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// Exec runs a command inside the host's namespace (ip netns exec) and fails
// the test on error. It returns the combined output.
func (h *Host) Exec(name string, args ...string) string {
	h.t.Helper()
	return h.run("ip", append([]string{"netns", "exec", h.Name, name}, args...)...)
}

// Sysctl sets a sysctl inside the host's namespace, e.g.
// Sysctl("net.ipv4.ping_group_range", "0 2147483647").
func (h *Host) Sysctl(key, value string) {
	h.t.Helper()
	h.Exec("sysctl", "-q", "-w", key+"="+value)
}

// Do runs fn on an OS thread switched into the host's namespace. Sockets fn
// opens stay in that namespace for their whole life, whichever goroutine
// uses them later; goroutines fn starts do not inherit the namespace.
func (h *Host) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// If switching back fails the thread stays locked and dies with
		// this goroutine, so no other goroutine runs in the wrong namespace.
		back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("netlab: open own namespace: %w", err)
			return
		}
		defer unix.Close(back)
		ns, err := unix.Open("/run/netns/"+h.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("netlab: open namespace %s: %w", h.Name, err)
			return
		}
		err = unix.Setns(ns, unix.CLONE_NEWNET)
		unix.Close(ns)
		if err != nil {
			errc <- fmt.Errorf("netlab: setns %s: %w", h.Name, err)
			return
		}
		ferr := fn()
		if unix.Setns(back, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}
