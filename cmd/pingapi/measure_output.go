package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/report"
	"github.com/pingapi/pingapi/pkg/stats"
)

// runJobs measures every resolved job concurrently on eng and stores each
// outcome on its job. A cancelled ctx ends them all; their partial results
// are kept and are not errors.
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
		wg.Go(func() {
			res, err := eng.Ping(ctx, r, onPacket)
			j.res = res
			if err != nil && !(ctx.Err() != nil && errors.Is(err, ctx.Err())) {
				j.err = err
			}
		})
	}
	wg.Wait()
}

// measureOutput writes what measure prints on stdout. Per-reply lines are
// written from the measuring goroutine, hence the mutex.
type measureOutput struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	count    int
	size     int
	perReply bool // one target, text output, not -q: ping(8)-style reply lines
}

func newMeasureOutput(w io.Writer, f measureFlags, targets int) *measureOutput {
	size := f.size
	if size == 0 {
		size = 56
	}
	return &measureOutput{w: w, json: f.json, count: f.count, size: size,
		perReply: targets == 1 && !f.json && !f.quiet}
}

// header prints ping(8)'s first line.
func (o *measureOutput) header(j *job) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, "PING %s (%s) %d(%d) bytes of data.\n", j.t.Input, j.addr, o.size, o.size+ipHeaderLen(j)+8)
}

func ipHeaderLen(j *job) int {
	if j.addr.Is4() {
		return 20
	}
	return 40
}

// reply prints ping(8)'s line for a received reply; icmp_seq is 1-based as
// in ping, while the JSON's seq is the engine's 0-based sequence.
func (o *measureOutput) reply(j *job, p probe.Packet) {
	if !p.Received {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, "%d bytes from %s: icmp_seq=%d ttl=%d time=%.3f ms\n",
		o.size+8, j.addr, p.Seq+1, p.TTL, stats.Millis(p.RTT))
}

// finish prints every measured job in input order, reports errors on
// stderr, and returns the exit status.
func (o *measureOutput) finish(jobs []*job, stderr io.Writer) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	status := exitAllAnswered
	enc := json.NewEncoder(o.w)
	first := true
	for _, j := range jobs {
		if j.err != nil {
			fmt.Fprintf(stderr, "pingapi measure: %s: %v\n", j.t.Input, j.err)
			status = exitUsageOrSetup
			continue
		}
		if j.res.Received == 0 && status == exitAllAnswered {
			status = exitSomeSilent
		}
		if o.json {
			_ = enc.Encode(report.Build(j.t.Input, o.count, j.res, true))
			continue
		}
		if !first || o.perReply {
			fmt.Fprintln(o.w)
		}
		first = false
		writeSummary(o.w, j.t.Input, j.res)
	}
	return status
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
