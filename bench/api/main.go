// Command apiload runs N concurrent measurements against a running pingapi
// server, each to a distinct 127.0.0.0/8 address, and reports how long they
// took, the server's memory per measurement in flight and its CPU time per
// echo. It is the second half of docs/PERFORMANCE-api.md; bench/api/run.sh
// starts the server and runs it.
//
// Usage:
//
//	apiload -url http://127.0.0.1:8080 -token JWT -pid SERVER_PID -n 1000 -c 5
//
// Only loopback targets are generated (127.10.x.y).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// result is one measurement as the client saw it.
type result struct {
	status   int
	err      error
	elapsed  time.Duration // request sent to body read, as the client saw it
	engine   time.Duration // finished_at - started_at, as the server measured
	received int
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apiload", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "server base URL")
	token := fs.String("token", "", "bearer token")
	pid := fs.Int("pid", 0, "server process id, for RSS and CPU from /proc (0: not measured)")
	n := fs.Int("n", 1000, "concurrent measurements")
	c := fs.Int("c", 5, "echoes per measurement (c)")
	sample := fs.Duration("sample", 100*time.Millisecond, "RSS sampling period during the run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n < 1 || *n > 40000 {
		fmt.Fprintln(stderr, "apiload: -n must be from 1 to 40000")
		return 2
	}
	tr := &http.Transport{MaxIdleConns: *n, MaxIdleConnsPerHost: *n, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: time.Duration(*c+30) * time.Second}

	// Warm-up: one measurement, so the baseline RSS includes the code paths.
	if r := measure(context.Background(), client, *base, *token, "127.0.0.1", 1); r.err != nil || r.status != 200 {
		fmt.Fprintf(stderr, "apiload: warm-up failed: status %d err %v\n", r.status, r.err)
		return 1
	}
	rss0, _ := rssKiB(*pid)
	cpu0, _ := cpuTicks(*pid)

	results := make([]result, *n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = measure(context.Background(), client, *base, *token, loopbackTarget(i), *c)
		}()
	}
	// Sample RSS while the measurements run; keep the largest.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	rssPeak := rss0
	tick := time.NewTicker(*sample)
	defer tick.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-tick.C:
			if r, err := rssKiB(*pid); err == nil && r > rssPeak {
				rssPeak = r
			}
		}
	}
	wall := time.Since(start)
	cpu1, _ := cpuTicks(*pid)

	var ok, received int
	statuses := map[string]int{}
	var lat, eng, over []time.Duration
	for _, r := range results {
		key := strconv.Itoa(r.status)
		if r.err != nil {
			key = "error: " + r.err.Error()
		}
		statuses[key]++
		if r.status == 200 {
			ok++
			received += r.received
		}
		lat = append(lat, r.elapsed)
		eng = append(eng, r.engine)
		over = append(over, r.elapsed-r.engine)
	}
	for _, s := range [][]time.Duration{lat, eng, over} {
		slices.Sort(s)
	}
	dist := func(s []time.Duration) string {
		q := func(p float64) time.Duration { return s[int(float64(len(s)-1)*p)].Round(time.Millisecond) }
		return fmt.Sprintf("min %v p50 %v p99 %v max %v", q(0), q(0.5), q(0.99), q(1))
	}
	fmt.Fprintf(stdout, "measurements: %d concurrent, c=%d, distinct 127.10.x.y targets\n", *n, *c)
	fmt.Fprintf(stdout, "statuses: %v\n", statuses)
	fmt.Fprintf(stdout, "completed 200: %d/%d, echoes received %d/%d\n", ok, *n, received, *n**c)
	fmt.Fprintf(stdout, "duration per measurement, client side: %s (limit c+2 = %ds)\n", dist(lat), *c+2)
	fmt.Fprintf(stdout, "  of which the engine (finished_at - started_at): %s\n", dist(eng))
	fmt.Fprintf(stdout, "  and the rest (connect, auth, queueing, response): %s\n", dist(over))
	fmt.Fprintf(stdout, "wall time first start to last end: %v\n", wall.Round(time.Millisecond))
	within := lat[len(lat)-1] <= time.Duration(*c+2)*time.Second && ok == *n
	fmt.Fprintf(stdout, "all completed within c+2 s: %v\n", within)
	if *pid > 0 {
		fmt.Fprintf(stdout, "server RSS: baseline %d KiB, peak with %d in flight %d KiB: %.1f KiB per measurement in flight\n",
			rss0, *n, rssPeak, float64(rssPeak-rss0)/float64(*n))
		ticks := cpu1 - cpu0
		sec := float64(ticks) / 100 // USER_HZ
		echoes := *n * *c
		fmt.Fprintf(stdout, "server CPU: %.2f s user+sys for %d echoes (%d HTTP requests): %.1f µs per echo, %.2f s per 1,000 echoes\n",
			sec, echoes, *n, sec/float64(echoes)*1e6, sec/float64(echoes)*1000)
	}
	if !within {
		return 1
	}
	return 0
}

// loopbackTarget returns the i-th distinct address in 127.10.0.0/16,
// avoiding .0 and .255.
func loopbackTarget(i int) string {
	return fmt.Sprintf("127.10.%d.%d", i/250, i%250+1)
}

func measure(ctx context.Context, client *http.Client, base, token, target string, c int) result {
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/pingapi/"+target+"?c="+strconv.Itoa(c), nil)
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err, elapsed: time.Since(t0)}
	}
	defer resp.Body.Close()
	var body struct {
		CountReceived int       `json:"count_received"`
		StartedAt     time.Time `json:"started_at"`
		FinishedAt    time.Time `json:"finished_at"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return result{status: resp.StatusCode, elapsed: time.Since(t0), engine: body.FinishedAt.Sub(body.StartedAt), received: body.CountReceived}
}

// rssKiB reads VmRSS of pid from /proc.
func rssKiB(pid int) (int, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// cpuTicks reads utime+stime of pid (clock ticks, USER_HZ = 100 on Linux).
func cpuTicks(pid int) (int, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, _ := strconv.Atoi(f[11])
	k, _ := strconv.Atoi(f[12])
	return u + k, nil
}
