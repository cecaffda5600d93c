package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a started child process whose stdout lines are kept.
type child struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	last map[string]string // first word of a line → the line
	seen chan string       // every line
}

func start(args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: exec.Command(self, args...), last: map[string]string{}, seen: make(chan string, 1024)}
	c.cmd.Stderr = os.Stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.last[strings.Fields(line + " x")[0]] = line
			c.mu.Unlock()
			select {
			case c.seen <- line:
			default:
			}
		}
	}()
	return c, nil
}

// fresh returns the next line starting with prefix printed from now on.
func (c *child) fresh(prefix string, limit time.Duration) (string, error) {
	for {
		select {
		case <-c.seen:
			continue
		default:
		}
		return c.wait(prefix, limit)
	}
}

// wait returns the first line starting with prefix, within limit.
func (c *child) wait(prefix string, limit time.Duration) (string, error) {
	deadline := time.After(limit)
	for {
		select {
		case l := <-c.seen:
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-deadline:
			return "", fmt.Errorf("no %q line within %v", prefix, limit)
		}
	}
}

// field returns the integer after name in the last line starting with key.
func (c *child) field(key, name string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := strings.Fields(c.last[key])
	for i := 0; i+1 < len(f); i++ {
		if f[i] == name {
			n, _ := strconv.ParseInt(f[i+1], 10, 64)
			return n
		}
	}
	return 0
}

func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	_ = c.cmd.Wait()
}

// result is one server's figures.
type result struct {
	impl             string
	clients          int64
	echoes           int64
	cpu              time.Duration
	rssIdle, rssFull int64
}

func (r result) cpuPerEcho() time.Duration { return r.cpu / time.Duration(max(r.echoes, 1)) }
func (r result) bytesPerClient() int64     { return (r.rssFull - r.rssIdle) / max(r.clients, 1) }

func runBench(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	n := fs.Int("n", 10000, "connected clients")
	interval := fs.Duration("interval", 3*time.Second, "probe interval")
	measure := fs.Duration("measure", 60*time.Second, "measured period")
	impls := fs.String("impls", "pingapi,naive", "servers to measure, in order")
	profile := fs.String("cpuprofile", "", "write each server's CPU profile to `PREFIX`-IMPL.prof")
	_ = fs.Parse(args)
	var results []result
	for _, impl := range strings.Split(*impls, ",") {
		r, err := one(impl, *n, *interval, *measure, *profile)
		if err != nil {
			return fmt.Errorf("%s: %w", impl, err)
		}
		results = append(results, r)
	}
	fmt.Printf("\n%d clients on loopback, %v interval, %v measured (after 2 intervals of warm-up)\n\n", *n, *interval, *measure)
	fmt.Println("| server | echoes | echoes/s | CPU | CPU per echo | RSS idle | RSS with clients | memory per client |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Printf("| %s | %d | %.0f | %.2f s | %.2f µs | %.1f MiB | %.1f MiB | %.2f KB |\n", r.impl, r.echoes,
			float64(r.echoes)/measure.Seconds(), r.cpu.Seconds(), float64(r.cpuPerEcho())/1e3,
			float64(r.rssIdle)/(1<<20), float64(r.rssFull)/(1<<20), float64(r.bytesPerClient())/1e3)
	}
	if len(results) == 2 {
		a, b := results[0], results[1]
		fmt.Printf("\nratio %s/%s: CPU per echo %.2fx, memory per client %.2fx\n", a.impl, b.impl,
			float64(a.cpuPerEcho())/float64(b.cpuPerEcho()), float64(a.bytesPerClient())/float64(b.bytesPerClient()))
	}
	return nil
}

func one(impl string, n int, interval, measure time.Duration, profile string) (result, error) {
	r := result{impl: impl}
	args := []string{"serve", "-impl", impl, "-interval", interval.String()}
	if profile != "" {
		args = append(args, "-cpuprofile", profile+"-"+impl+".prof")
	}
	srv, err := start(args...)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	l, err := srv.wait("listening ", 10*time.Second)
	if err != nil {
		return r, err
	}
	addr := strings.Fields(l)[1]
	time.Sleep(time.Second) // let the idle server settle before its baseline
	if _, r.rssIdle, err = procStat(srv.cmd.Process.Pid); err != nil {
		return r, err
	}
	cl, err := start("clients", "-server", addr, "-n", strconv.Itoa(n))
	if err != nil {
		return r, err
	}
	defer cl.stop()
	if _, err := cl.wait("connected ", 5*time.Minute); err != nil {
		return r, err
	}
	time.Sleep(2 * interval) // every client probed at least once
	_, _ = srv.fresh("echoes ", 5*time.Second)
	cpu0, _, err := procStat(srv.cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	e0 := srv.field("echoes", "echoes")
	time.Sleep(measure)
	_, _ = srv.fresh("echoes ", 5*time.Second)
	cpu1, rss, err := procStat(srv.cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	r.echoes = srv.field("echoes", "echoes") - e0
	r.clients = srv.field("echoes", "connected")
	r.cpu, r.rssFull = cpu1-cpu0, rss
	fmt.Fprintf(os.Stderr, "%s: %d clients, %d echoes, CPU %v, RSS %d -> %d\n", impl, r.clients, r.echoes, r.cpu, r.rssIdle, r.rssFull)
	return r, nil
}
