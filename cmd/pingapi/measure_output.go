package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/report"
	"github.com/pingapi/pingapi/pkg/stats"
)

// runJobs starts every resolved job on eng at once and writes each
// target's lines as they come: its reply lines as the replies arrive, its
// result as soon as its last request is answered or past its deadline (in
// completion order, as fping does), so that nothing of a finished target
// is kept. No goroutine waits per target: the engine calls back on its
// loop. A cancelled ctx ends them all; their partial results are written
// and are not errors.
func runJobs(ctx context.Context, eng measureEngine, jobs []*job, req probe.Request, out *measureOutput) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.err != nil {
			continue
		}
		r := req
		r.Target = j.addr
		var onPacket func(probe.Packet)
		if out.perReply {
			out.header(j)
			onPacket = func(p probe.Packet) { out.reply(j, p) }
		}
		wg.Add(1)
		eng.StartEach(ctx, r, onPacket, func(res probe.Result, err error) {
			defer wg.Done()
			if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				err = nil // interrupted: the partial result is the answer
			}
			out.result(j, res, err)
		})
	}
	wg.Wait()
}

// outputMode is what measure prints per target.
type outputMode int

const (
	modeSummary outputMode = iota // ping(8)'s closing lines
	modeJSON                      // --json: one wire.Measurement per line
	modeCounts                    // -C: fping's "HOST : rtt rtt - rtt"
	modeAlive                     // -a / -u: the names that (never) answered
)

// measureOutput writes what measure prints on stdout and stderr. Its
// methods are called from the engine's loop (and, after an interruption,
// from the engine's cancellation goroutines): they only format into a
// buffer under the mutex. The buffer goes out when it fills, at every
// line with one target (ping's habit), from a flusher at least every
// flushEvery otherwise (progress on long runs), and at the end.
type measureOutput struct {
	mu      sync.Mutex
	w       *bufio.Writer
	stderr  io.Writer
	mode    outputMode
	count   int
	size    int
	width   int // widest input, for fping's aligned columns
	single  bool
	alive   bool // -a
	silent  bool // -u
	elapsed bool // -e
	// perReply: reply lines as each reply arrives; ping(8)'s with one
	// target, fping's with several. Not with -q, --json, -a or -u.
	perReply bool
	status   int
	first    bool // no summary block printed yet
	enc      *json.Encoder
	stop     chan struct{}
	flushed  chan struct{}
}

// flushEvery bounds how long a line waits in measure's output buffer.
const flushEvery = 100 * time.Millisecond

func newMeasureOutput(stdout, stderr io.Writer, f measureFlags, jobs []*job) *measureOutput {
	size := f.size
	if size == 0 {
		size = probe.DefaultSize
	}
	o := &measureOutput{w: bufio.NewWriterSize(stdout, 64<<10), stderr: stderr, count: f.count, size: size,
		single: len(jobs) == 1, alive: f.alive, silent: f.unreach, elapsed: f.elapsed,
		status: exitAllAnswered, first: true, stop: make(chan struct{}), flushed: make(chan struct{})}
	switch {
	case f.json:
		o.mode = modeJSON
	case f.alive || f.unreach:
		o.mode = modeAlive
	case f.counts > 0:
		o.mode = modeCounts
	}
	o.perReply = !f.quiet && (o.mode == modeSummary || o.mode == modeCounts)
	o.enc = json.NewEncoder(o.w)
	for _, j := range jobs {
		o.width = max(o.width, len(j.t.Input))
	}
	go o.flusher()
	return o
}

// flusher writes out what waits in the buffer every flushEvery until
// close.
func (o *measureOutput) flusher() {
	defer close(o.flushed)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.mu.Lock()
			if o.w.Buffered() > 0 {
				_ = o.w.Flush()
			}
			o.mu.Unlock()
		}
	}
}

// failed reports a target that could not be measured (resolution or
// engine refused it), at once, on stderr.
func (o *measureOutput) failed(j *job, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.stderr, "pingapi measure: %s: %v\n", j.t.Input, err)
	o.status = exitUsageOrSetup
}

// header prints ping(8)'s first line for a lone target.
func (o *measureOutput) header(j *job) {
	if !o.single {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, "PING %s (%s) %d(%d) bytes of data.\n", j.t.Input, j.addr, o.size, o.size+ipHeaderLen(j)+8)
	_ = o.w.Flush()
}

func ipHeaderLen(j *job) int {
	if j.addr.Is4() {
		return 20
	}
	return 40
}

// reply prints the line of a received reply: ping(8)'s for a lone target
// (icmp_seq from 1, as ping), fping's with several ("[seq]" from 0, as
// fping, with the running mean and loss of that target).
func (o *measureOutput) reply(j *job, p probe.Packet) {
	o.mu.Lock()
	defer o.mu.Unlock()
	j.seen++
	if !p.Received {
		return
	}
	j.recv++
	j.rttSum += p.RTT
	if o.single {
		fmt.Fprintf(o.w, "%d bytes from %s: icmp_seq=%d ttl=%d time=%.3f ms\n",
			o.size+8, j.addr, p.Seq+1, p.TTL, stats.Millis(p.RTT))
		_ = o.w.Flush()
		return
	}
	fmt.Fprintf(o.w, "%-*s : [%d], %d bytes, %.3f ms (%.3f avg, %d%% loss)\n", o.width, j.t.Input, p.Seq,
		o.size+8, stats.Millis(p.RTT), stats.Millis(j.rttSum/time.Duration(j.recv)), 100*(j.seen-j.recv)/j.seen)
}

// result writes one finished target's result.
func (o *measureOutput) result(j *job, res probe.Result, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		fmt.Fprintf(o.stderr, "pingapi measure: %s: %v\n", j.t.Input, err)
		o.status = exitUsageOrSetup
		return
	}
	if res.Received == 0 && o.status == exitAllAnswered {
		o.status = exitSomeSilent
	}
	switch o.mode {
	case modeJSON:
		_ = o.enc.Encode(report.Build(j.t.Input, o.count, res, true))
	case modeAlive:
		o.writeAlive(j, res)
	case modeCounts:
		o.writeCounts(j, res)
	default:
		if !o.first || o.perReply {
			fmt.Fprintln(o.w)
		}
		o.first = false
		writeSummary(o.w, j.t.Input, res)
	}
	if o.single {
		_ = o.w.Flush()
	}
}

// writeAlive prints the name of a target that answered (-a; with -e the
// RTT of its first reply, as fping) or never did (-u).
func (o *measureOutput) writeAlive(j *job, res probe.Result) {
	if res.Received == 0 {
		if o.silent {
			fmt.Fprintln(o.w, j.t.Input)
		}
		return
	}
	if !o.alive {
		return
	}
	if o.elapsed {
		for _, p := range res.Packets {
			if p.Received {
				fmt.Fprintf(o.w, "%s (%.3f ms)\n", j.t.Input, stats.Millis(p.RTT))
				return
			}
		}
	}
	fmt.Fprintln(o.w, j.t.Input)
}

// writeCounts prints fping -C's line: every request's RTT in ms, "-" for
// one that got no reply in time.
func (o *measureOutput) writeCounts(j *job, res probe.Result) {
	b := make([]byte, 0, 16+8*len(res.Packets))
	b = fmt.Appendf(b, "%-*s :", o.width, j.t.Input)
	for _, p := range res.Packets {
		if p.Received {
			b = fmt.Appendf(b, " %.3f", stats.Millis(p.RTT))
		} else {
			b = append(b, " -"...)
		}
	}
	b = append(b, '\n')
	_, _ = o.w.Write(b)
}

// finish stops the flusher, writes out the rest, and returns the exit
// status. Call it once every result is in.
func (o *measureOutput) finish() int {
	close(o.stop)
	<-o.flushed
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.w.Flush()
	return o.status
}

// writeSummary prints ping(8)'s closing lines for one target, as iputils
// formats them, plus a jitter line:
//
//	--- HOST ping statistics ---
//	5 packets transmitted, 5 received, 0% packet loss, time 4005ms
//	rtt min/avg/max/mdev = 0.031/0.045/0.060/0.010 ms
//	jitter = 0.012 ms
//
// Duplicates appear as ", +D duplicates" after the received count, as in
// ping. The rtt and jitter lines are left out when nothing was received.
func writeSummary(w io.Writer, host string, res probe.Result) {
	s := report.Summarize(res, false)
	fmt.Fprintf(w, "--- %s ping statistics ---\n", host)
	fmt.Fprintf(w, "%d packets transmitted, %d received", s.Sent, s.Received)
	if s.Duplicates > 0 {
		fmt.Fprintf(w, ", +%d duplicates", s.Duplicates)
	}
	if s.Sent > 0 {
		elapsed := res.Finished.Sub(res.Started).Milliseconds()
		fmt.Fprintf(w, ", %s%% packet loss, time %dms", strconv.FormatFloat(s.Loss, 'g', 6, 64), max(elapsed, 0))
	}
	fmt.Fprintln(w)
	if s.Received == 0 {
		return
	}
	fmt.Fprintf(w, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n",
		stats.Millis(s.Min), stats.Millis(s.Mean), stats.Millis(s.Max), stats.Millis(s.StdDev))
	fmt.Fprintf(w, "jitter = %.3f ms\n", stats.Millis(s.Jitter))
}
