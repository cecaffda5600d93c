package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// capture is a running tcpdump on lo: the wire's view of a peer's echoes,
// the reference both the engine and iputils ping are compared against.
type capture struct {
	cmd      *exec.Cmd
	out      bytes.Buffer
	errw     *lockedBuffer
	scanDone chan struct{} // closed once tcpdump exited and its stderr is read
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startCapture starts tcpdump on lo for ICMP with nanosecond timestamps and
// returns once it reports that it is listening (or fails).
func startCapture(ctx context.Context) (*capture, error) {
	c := &capture{errw: &lockedBuffer{}, scanDone: make(chan struct{})}
	c.cmd = exec.CommandContext(ctx, "tcpdump", "-i", "lo", "-nn", "-tt", "--time-stamp-precision=nano", "-l", "icmp")
	c.cmd.Stdout = &c.out
	pr, pw := io.Pipe()
	c.cmd.Stderr = pw
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan error, 1)
	go func() {
		defer close(c.scanDone)
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			c.errw.Write(append(sc.Bytes(), '\n'))
			if !signalled && strings.HasPrefix(sc.Text(), "listening on") {
				ready <- nil
				signalled = true
			}
		}
		if !signalled {
			ready <- errors.New("tcpdump exited before listening: " + c.errw.String())
		}
	}()
	go func() {
		_ = c.cmd.Wait()
		pw.Close()
	}()
	select {
	case err := <-ready:
		return c, err
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		return nil, errors.New("tcpdump did not start listening within 10s")
	}
}

// stop interrupts tcpdump, waits for it to flush, and returns the wire RTT
// of every echo request/reply pair it saw, sorted, and its drop report.
func (c *capture) stop() ([]time.Duration, string) {
	_ = c.cmd.Process.Signal(os.Interrupt)
	<-c.scanDone // tcpdump exited: Wait has copied all of stdout
	drops := ""
	for _, l := range strings.Split(c.errw.String(), "\n") {
		if strings.Contains(l, "dropped by kernel") {
			drops = l
		}
	}
	return wireRTTs(&c.out), drops
}

// wireRTTs pairs "ICMP echo request, id I, seq S" with the matching reply
// in tcpdump -tt --time-stamp-precision=nano output and returns the
// differences of their timestamps, sorted.
func wireRTTs(r io.Reader) []time.Duration {
	type key struct{ id, seq string }
	sent := map[key]time.Time{}
	var out []time.Duration
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		ts, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		t, err := parseEpoch(ts)
		if err != nil {
			continue
		}
		var kind string
		switch {
		case strings.Contains(rest, "ICMP echo request,"):
			kind = "req"
		case strings.Contains(rest, "ICMP echo reply,"):
			kind = "rep"
		case strings.Contains(rest, "ICMP6, echo request,"):
			kind = "req"
		case strings.Contains(rest, "ICMP6, echo reply,"):
			kind = "rep"
		default:
			continue
		}
		k := key{field(rest, "id "), field(rest, "seq ")}
		if kind == "req" {
			sent[k] = t
		} else if t0, ok := sent[k]; ok {
			out = append(out, t.Sub(t0))
			delete(sent, k)
		}
	}
	slices.Sort(out)
	return out
}

// field returns the token after prefix up to the next comma or blank.
func field(s, prefix string) string {
	_, after, ok := strings.Cut(s, prefix)
	if !ok {
		return ""
	}
	if i := strings.IndexAny(after, ", "); i >= 0 {
		return after[:i]
	}
	return after
}

// parseEpoch parses "1795332778.339639667" exactly, to the nanosecond.
func parseEpoch(s string) (time.Time, error) {
	sec, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 9 {
		return time.Time{}, fmt.Errorf("not a nanosecond timestamp: %q", s)
	}
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, fmt.Errorf("not a nanosecond timestamp: %q", s)
	}
	return time.Unix(a, b), nil
}
