package probe_test

import (
	"bufio"
	"bytes"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
)

var pingTime = regexp.MustCompile(`time=([0-9.]+) ms`)

// BenchmarkLoopbackRTT compares the engine's loopback RTT with iputils
// ping's, both measuring 127.0.0.1 at a 10 ms interval at the same time
// (op = one echo of each). It reports the medians and their difference in
// µs; the target is |engine − ping| ≤ 10 µs.
//
//	go test -run '^$' -bench LoopbackRTT -benchtime 1000x ./pkg/probe/
func BenchmarkLoopbackRTT(b *testing.B) {
	e, err := probe.New(probe.Options{})
	if err != nil {
		b.Skip(err)
	}
	defer e.Close()
	n := b.N
	var pingOut bytes.Buffer
	pingCmd := exec.CommandContext(b.Context(), "ping", "-n", "-c", strconv.Itoa(n), "-i", "0.01", "127.0.0.1")
	pingCmd.Stdout = &pingOut
	havePing := pingCmd.Start() == nil
	r, err := e.Ping(b.Context(), probe.Request{Target: netip.MustParseAddr("127.0.0.1"), Count: n, Interval: 10 * time.Millisecond, Timeout: time.Second}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var ours []time.Duration
	for _, p := range r.Packets {
		if p.Received {
			ours = append(ours, p.RTT)
		}
	}
	engineMed := median(ours)
	b.ReportMetric(float64(engineMed.Nanoseconds())/1e3, "engine-median-µs")
	if !havePing || pingCmd.Wait() != nil {
		return
	}
	var theirs []time.Duration
	sc := bufio.NewScanner(&pingOut)
	for sc.Scan() {
		if m := pingTime.FindSubmatch(sc.Bytes()); m != nil {
			f, _ := strconv.ParseFloat(string(m[1]), 64)
			theirs = append(theirs, time.Duration(f*1e6))
		}
	}
	pingMed := median(theirs)
	b.ReportMetric(float64(pingMed.Nanoseconds())/1e3, "ping-median-µs")
	b.ReportMetric(float64((engineMed-pingMed).Nanoseconds())/1e3, "diff-µs")
}

func median(v []time.Duration) time.Duration {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}
