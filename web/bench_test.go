package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pingapi/pingapi/pkg/archive"
)

// Benchmark sizes (issue 10): one host with a year of one-minute
// measurements, and a fleet of 10,000 monitored hosts with an archived
// probe in each of the last 24 hours.
const (
	benchHost      = "127.0.0.1"
	benchFleet     = 10000
	benchYearDays  = 365
	benchBatchRows = 20000
)

// fleetName is the i-th host of the benchmark fleet: 127.1.0.0/16.
func fleetName(i int) string { return fmt.Sprintf("127.1.%d.%d", i/256, i%256) }

// fillArchive writes the benchmark's data into a SQLite archive under dir,
// through the archive's own Go API.
func fillArchive(b *testing.B, dir string, now time.Time) {
	b.Helper()
	ctx := context.Background()
	st, err := archive.Open(ctx, archive.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	agent := netip.MustParseAddr("127.0.0.1")
	mk := func(target string, at time.Time, i int) archive.Measurement {
		m := archive.Measurement{Time: at, Agent: agent, Target: target, Addr: netip.MustParseAddr(target),
			Tool: archive.ToolMonitor, Sent: 10, SampleSize: 10, Interval: time.Second, PacketSize: 56}
		for k := range 10 {
			rtt := time.Duration(20+(i*7+k*13)%40) * time.Microsecond
			if (i+k)%97 == 0 {
				rtt = archive.Lost
			} else {
				m.TTLs = append(m.TTLs, 64)
			}
			m.RTTs = append(m.RTTs, rtt)
		}
		return m
	}
	batch := make([]archive.Measurement, 0, benchBatchRows)
	flush := func() {
		if err := st.AddMeasurements(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	start := now.Truncate(time.Minute).Add(-benchYearDays * 24 * time.Hour)
	for i := range benchYearDays * 1440 {
		batch = append(batch, mk(benchHost, start.Add(time.Duration(i)*time.Minute), i))
		if len(batch) == cap(batch) {
			flush()
		}
	}
	hour := now.Truncate(time.Hour)
	for h := range benchFleet {
		for i := range 24 {
			batch = append(batch, mk(fleetName(h), hour.Add(-time.Duration(23-i)*time.Hour).Add(time.Duration(h%3000)*time.Millisecond), h+i))
			if len(batch) == cap(batch) {
				flush()
			}
		}
	}
	flush()
}

// benchDir holds the benchmark's archive, filled once per test process
// (the benchmark function runs more than once).
var benchDir = sync.OnceValues(func() (string, error) { return processTempDir("pingapi-dashboard-bench-") })

// benchData returns the data directory with the filled archive.
func benchData(b *testing.B) string {
	b.Helper()
	dir, err := benchDir()
	if err != nil {
		b.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(data); err == nil {
		return data
	}
	t0 := time.Now()
	fillArchive(b, data, time.Now())
	b.Logf("archive filled in %v: %d measurements of %s, %d hosts × 24 h", time.Since(t0).Round(time.Second), benchYearDays*1440, benchHost, benchFleet)
	return data
}

// navTime navigates to url, waits for the page to set body[data-<flag>]
// and returns the time of the Performance API mark from navigation start.
func navTime(b *testing.B, br *browser, url, flag, mark string) time.Duration {
	b.Helper()
	br.do(b, chromedp.Navigate(url))
	waitFor(b, br, mark, `document.body.dataset.`+flag+` === 'drawn'`, 60*time.Second)
	ms := eval[float64](b, br, `performance.getEntriesByName('`+mark+`')[0].startTime`)
	return time.Duration(ms * float64(time.Millisecond))
}

// BenchmarkDashboard measures, in Chromium against a real `pingapi serve`
// with a SQLite archive: the host page's first chart for 24 h of
// one-minute data and for a year (daily windows), and the overview of
// 10,000 hosts (table and heatmap), from navigation start (Performance
// API marks set by the pages), plus the sizes of what they load.
//
//	go test ./web -run '^$' -bench Dashboard -benchtime 5x
func BenchmarkDashboard(b *testing.B) {
	chromiumPath(b)
	data := benchData(b)
	hosts := []string{benchHost}
	for i := range benchFleet {
		hosts = append(hosts, fleetName(i))
	}
	srv := startServeConf(b, benchConf(hosts), data)
	br := newBrowser(b, srv.base)

	// The overview's first load reads every host from the archive (cold);
	// later loads answer from the cache.
	cold := navTime(b, br, srv.base+"/dashboard/", "heatmap", "pingapi:heatmap-drawn")
	t0 := time.Now()
	waitFor(b, br, "the fleet's history", `document.body.dataset.history === 'complete'`, 5*time.Minute)
	history := time.Since(t0) + cold
	body := get(b, srv.base+"/dashboard/api/hosts")
	heat := get(b, srv.base+"/dashboard/api/heatmap?rows=320")
	yearCold := navTime(b, br, srv.base+"/dashboard/host/"+benchHost+"?range=1y", "chart", "pingapi:chart-drawn")
	weight := pageWeight(b, srv.base+"/dashboard/host/"+benchHost)

	var day, year, table, heatmap time.Duration
	b.ResetTimer()
	for range b.N {
		day += navTime(b, br, srv.base+"/dashboard/host/"+benchHost+"?range=24h", "chart", "pingapi:chart-drawn")
		year += navTime(b, br, srv.base+"/dashboard/host/"+benchHost+"?range=1y", "chart", "pingapi:chart-drawn")
		heatmap += navTime(b, br, srv.base+"/dashboard/", "heatmap", "pingapi:heatmap-drawn")
		table += time.Duration(eval[float64](b, br, `performance.getEntriesByName('pingapi:table-drawn')[0].startTime`) * float64(time.Millisecond))
	}
	b.StopTimer()
	n := float64(b.N)
	// ResetTimer drops metrics reported before it: report these now.
	b.ReportMetric(float64(len(body))/1e6, "hosts-json-MB")
	b.ReportMetric(float64(len(heat))/1e3, "heatmap-json-kB")
	b.ReportMetric(float64(cold.Milliseconds()), "overview-cold-ms")
	b.ReportMetric(history.Seconds(), "overview-cold-history-s")
	b.ReportMetric(float64(yearCold.Milliseconds()), "year-cold-ms")
	b.ReportMetric(float64(weight)/1e3, "host-page-gzip-kB")
	b.ReportMetric(float64(day.Milliseconds())/n, "day-chart-ms")
	b.ReportMetric(float64(year.Milliseconds())/n, "year-chart-ms")
	b.ReportMetric(float64(table.Milliseconds())/n, "overview-table-ms")
	b.ReportMetric(float64(heatmap.Milliseconds())/n, "overview-heatmap-ms")
	br.check(b)
}

// benchConf is the monitor of the benchmark: Ping903's defaults (a probe
// of 10 echoes a minute) over every host.
func benchConf(hosts []string) string {
	return "ip-list <<END\n" + strings.Join(hosts, "\n") + "\nEND\n"
}

func get(b *testing.B, url string) []byte {
	b.Helper()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return body
}

// pageWeight is the bytes on the wire, gzip-compressed as a browser asks,
// of a page and every file it references (the data excluded).
func pageWeight(b *testing.B, pageURL string) int {
	b.Helper()
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	fetch := func(u string) []byte {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
		}
		return body
	}
	page := fetch(pageURL)
	n := len(page)
	base, _ := url.Parse(pageURL)
	plain := get(b, pageURL) // the references, from the uncompressed page
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllSubmatch(plain, -1) {
		ref, err := base.Parse(string(m[1]))
		if err != nil || ref.Host != base.Host || !strings.Contains(ref.Path, "/static/") {
			continue // links to other pages are not loaded
		}
		n += len(fetch(ref.String()))
	}
	return n
}
