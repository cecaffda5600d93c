// Command tcpechobench measures the TCP echo service (pkg/tcpecho) with
// many connected clients on loopback: server CPU time per echo and memory
// per connected client, against a named peer measured in the same run:
// "naive", the seed's design in Go (one goroutine and one timer per
// client, a blocking write and a blocking read per probe). See
// docs/PERFORMANCE.md.
//
//	go run ./bench/tcpecho run -n 10000 -interval 3s -measure 60s
//
// run starts each server as its own child process (so its CPU time and RSS
// are its own), then a client child that opens n connections from
// 127.0.0.0/8 and echoes every byte with one epoll loop, waits for two
// intervals, and reads the server's CPU time (/proc/PID/stat) and RSS
// (/proc/PID/status) before and after the measured period, and its echo
// counter from its stdout.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pingapi/pingapi/pkg/target"
	"github.com/pingapi/pingapi/pkg/tcpecho"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tcpechobench run|serve|clients [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runBench(os.Args[2:])
	case "serve":
		err = serve(os.Args[2:])
	case "clients":
		err = clients(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpechobench:", err)
		os.Exit(1)
	}
}

// serve runs one server implementation on 127.0.0.1:0, prints
// "listening ADDR", then "echoes N connected M" every second.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	impl := fs.String("impl", "pingapi", "pingapi or naive")
	interval := fs.Duration("interval", 3*time.Second, "probe interval")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE`")
	_ = fs.Parse(args)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var count func() (echoes int64, connected int)
	switch *impl {
	case "pingapi":
		s, err := tcpecho.New(tcpecho.Options{Interval: *interval, Policy: target.DevPolicy(),
			MaxClients: 1 << 20, MaxPerAddr: 1 << 20, Sink: discard{}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return err
		}
		defer s.Close()
		go func() { _ = s.Serve(ctx, ln) }()
		count = func() (int64, int) { st := s.Stats(); return st.Echoes, st.Connected }
	case "naive":
		n := &naive{interval: *interval}
		go n.serve(ctx, ln)
		count = func() (int64, int) { return n.echoes.Load(), int(n.connected.Load()) }
	default:
		return fmt.Errorf("unknown -impl %q", *impl)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			e, c := count()
			fmt.Printf("echoes %d connected %d\n", e, c)
		}
	}
}

// discard is a Sink that drops the windows: the echo service's own cost,
// without a database.
type discard struct{}

func (discard) Window(context.Context, tcpecho.Window) {}

// naive is the seed's server design in Go: per client one goroutine that
// ticks, writes a byte, blocks reading its echo and times it.
type naive struct {
	interval          time.Duration
	echoes, connected atomic.Int64
}

func (n *naive) serve(ctx context.Context, ln net.Listener) {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go n.client(c)
	}
}

func (n *naive) client(c net.Conn) {
	defer c.Close()
	n.connected.Add(1)
	defer n.connected.Add(-1)
	t := time.NewTicker(n.interval)
	defer t.Stop()
	var b [1]byte
	for seq := byte(0); ; seq++ {
		<-t.C
		b[0] = seq
		start := time.Now()
		if _, err := c.Write(b[:]); err != nil {
			return
		}
		_ = c.SetReadDeadline(start.Add(2 * time.Second))
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return
		}
		if b[0] == seq && time.Since(start) > 0 {
			n.echoes.Add(1)
		}
	}
}

// procStat returns a process's CPU time (user + system) and RSS.
func procStat(pid int) (cpu time.Duration, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64) // fields 14, 15 (utime, stime) after pid and comm
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ
	cpu = time.Duration(ut+st) * time.Second / hz
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(s), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			rss = kb << 10
		}
	}
	return cpu, rss, nil
}
