package web_test

import (
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pingapi/pingapi/internal/netlab"
)

// xssName is the host name that must show as text, never as markup.
const xssName = `<img src=x onerror=alert(1)>`

// TestDashboardInBrowser loads the dashboard in Chromium against a real
// `pingapi serve` monitoring two loopback hosts, ::1 and a namespace host
// that drops everything, and checks what a person would see.
func TestDashboardInBrowser(t *testing.T) {
	netlab.SkipShort(t, "starts pingapi and Chromium")
	chromiumPath(t)
	netlab.RequireRoot(t)
	dead := netlab.NewHost(t, netlab.Options{NoIPv6: true})
	dead.DropAll()
	hosts := []string{"127.0.0.1", "127.0.0.2", "::1", dead.Addr4.String()}
	// Two-second archive windows: the client's history has points soon.
	srv := startServe(t, hosts, "", "TCPECHO_LISTEN=127.0.0.1:0", "TCPECHO_INTERVAL=1s", "TCPECHO_WINDOW=2s")
	b := newBrowser(t, srv.base)
	// A TCP echo client, socat as the plainest one, joins the overview.
	echoAddr := srv.waitLogValue(t, `msg="tcp echo listening" .*?addr=(127\.0\.0\.1:\d+)`)
	socat := exec.Command("socat", "TCP:"+echoAddr, "EXEC:cat")
	if err := socat.Start(); err != nil {
		t.Fatalf("socat (scripts/install-deps.sh installs it): %v", err)
	}
	t.Cleanup(func() { _ = socat.Process.Kill(); _ = socat.Wait() })

	// The archive has every host's first probes before the pages load.
	for _, h := range []string{"127.0.0.1", dead.Addr4.String()} {
		srv.waitArchived(t, h, 2)
	}

	t.Run("overview", func(t *testing.T) {
		b.do(t, chromedp.Navigate(srv.base+"/dashboard/"))
		waitFor(t, b, "the host table", `document.body.dataset.table === 'drawn'`, 45*time.Second)
		names := eval[[]string](t, b, `[...document.querySelectorAll('#hosts tbody a:not(.tcp)')].map(a => a.textContent)`)
		if strings.Join(names, " ") != strings.Join(sortedNames(hosts), " ") {
			t.Errorf("host list %q, want %q", names, sortedNames(hosts))
		}
		// Statuses arrive with the first probes, as live updates.
		badge := func(name string) string {
			return `(document.querySelector('#hosts a[data-name="` + name + `"]')?.closest('tr').querySelector('.badge').textContent)`
		}
		waitFor(t, b, "the namespace host shown dead", badge(dead.Addr4.String())+` === 'dead'`, 30*time.Second)
		waitFor(t, b, "loopback shown alive", badge("127.0.0.1")+` === 'alive' && `+badge("::1")+` === 'alive'`, 30*time.Second)
		// Probes end every second: their results arrive as events.
		waitFor(t, b, "a live update of the table", `Number(document.body.dataset.liveUpdates || 0) > 0`, 45*time.Second)
		// The TCP echo client: a row of its own, alive once it echoes (the
		// page reloads the table every minute; reload it now).
		tcpRow := `[...document.querySelectorAll('#hosts tbody td.name')].find(td => td.querySelector('.tag'))`
		deadline := time.Now().Add(45 * time.Second)
		for eval[string](t, b, `(`+tcpRow+`)?.closest('tr').querySelector('.badge').textContent || ''`) != "alive" {
			if time.Now().After(deadline) {
				t.Fatal("no alive TCP echo client row in the overview")
			}
			time.Sleep(time.Second) // polling, not a timing assertion
			b.do(t, chromedp.Reload())
			waitFor(t, b, "the host table", `document.body.dataset.table === 'drawn'`, 45*time.Second)
		}
		waitFor(t, b, "the history", `document.body.dataset.history === 'complete'`, 45*time.Second)

		// Sorting by status puts the dead host first.
		b.do(t, chromedp.Click(`th[data-key="status"] button`, chromedp.NodeVisible))
		if first := eval[string](t, b, `document.querySelector('#hosts tbody a:not(.tcp)').textContent`); first != dead.Addr4.String() {
			t.Errorf("sorted by status, first host is %q, want the dead %s", first, dead.Addr4)
		}
		// Filtering.
		b.do(t, chromedp.SendKeys(`#filter`, "127.0.0"))
		waitFor(t, b, "the filter", `document.querySelectorAll('#hosts tbody a:not(.tcp)').length === 2`, 5*time.Second)
		b.do(t, chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); })()`))
		waitFor(t, b, "the filter cleared", `document.querySelectorAll('#hosts tbody a:not(.tcp)').length === 4`, 5*time.Second)
		waitFor(t, b, "the heatmap", `document.body.dataset.heatmap === 'drawn'`, 45*time.Second)
		// The first answers may come before the server has read the
		// archive; the page asks again until they are complete.
		waitFor(t, b, "the history", `document.body.dataset.history === 'complete'`, 45*time.Second)
		if ink := eval[int](t, b, `(`+canvasInk+`)(document.getElementById('heatmap'), null)`); ink < 50 {
			t.Errorf("heatmap canvas has %d opaque pixels", ink)
		}
		if ink := eval[int](t, b, `(`+canvasInk+`)(document.querySelector('#hosts a[data-name="127.0.0.1"]').closest('tr').querySelector('td.spark canvas'), null)`); ink == 0 {
			t.Error("the sparkline of 127.0.0.1 is empty")
		}
		b.screenshot(t, "dashboard-overview")
		b.check(t)
	})

	t.Run("host page", func(t *testing.T) {
		b.do(t, chromedp.Navigate(srv.base+"/dashboard/host/127.0.0.1?range=1h"))
		waitFor(t, b, "the chart", `document.body.dataset.chart === 'drawn'`, 45*time.Second)
		waitFor(t, b, "the status", `document.body.dataset.status === 'alive'`, 45*time.Second)
		if got := eval[string](t, b, `document.getElementById('hostname').textContent`); got != "127.0.0.1" {
			t.Errorf("heading %q", got)
		}
		waitFor(t, b, "a live point", `Number(document.body.dataset.liveUpdates || 0) > 0`, 45*time.Second)

		// The last minute, where the points are spread: the median line is
		// on the canvas in the colour of 0 % loss (read back from it).
		now := time.Now().Unix()
		b.do(t, chromedp.Navigate(srv.base+"/dashboard/host/127.0.0.1?from="+strconv.FormatInt(now-60, 10)+"&to="+strconv.FormatInt(now+5, 10)))
		waitFor(t, b, "points", `document.body.dataset.chart === 'drawn' && Number(document.body.dataset.points) >= 3`, 45*time.Second)
		if ink := eval[int](t, b, `(`+canvasInk+`)(document.querySelector('#chart canvas'), `+cssRGB(t, b, "--l0")+`)`); ink < 30 {
			t.Errorf("%d pixels of the median's colour: the RTT line is not drawn", ink)
		}
		b.screenshot(t, "dashboard-host")

		// Zoom by dragging across the middle of the plot: the range goes
		// into the URL.
		before := eval[string](t, b, `location.search`)
		box := eval[[]float64](t, b, `(() => { const r = document.querySelector('#chart .u-over').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
		x0, x1, y := box[0]+box[2]*0.3, box[0]+box[2]*0.6, box[1]+box[3]/2
		b.do(t,
			chromedp.MouseEvent(chromedp.MouseMoved, x0, y),
			chromedp.MouseEvent(chromedp.MousePressed, x0, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
			chromedp.MouseEvent(chromedp.MouseMoved, (x0+x1)/2, y, chromedp.ButtonLeft),
			chromedp.MouseEvent(chromedp.MouseMoved, x1, y, chromedp.ButtonLeft),
			chromedp.MouseEvent(chromedp.MouseReleased, x1, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		)
		waitFor(t, b, "the zoom in the URL", `location.search !== `+strconv.Quote(before), 30*time.Second)
		loc := eval[string](t, b, `location.search`)
		q, _ := url.ParseQuery(strings.TrimPrefix(loc, "?"))
		from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
		to, _ := strconv.ParseInt(q.Get("to"), 10, 64)
		if span := to - from; span < 16 || span > 23 {
			t.Errorf("zoomed to %s: a span of %d s, want about 30 %% of 65 s", loc, span)
		}
		zoom := strconv.FormatInt(from, 10) + "-" + strconv.FormatInt(to, 10)
		waitFor(t, b, "the zoomed chart", `document.body.dataset.xrange === '`+zoom+`'`, 30*time.Second)

		// Live points keep coming, and the zoom stays.
		n := eval[int](t, b, `Number(document.body.dataset.liveUpdates || 0)`)
		waitFor(t, b, "a live point while zoomed", `Number(document.body.dataset.liveUpdates || 0) > `+strconv.Itoa(n), 45*time.Second)
		if got := eval[string](t, b, `document.body.dataset.xrange + location.search`); got != zoom+loc {
			t.Errorf("after a live point: range %s, want %s", got, zoom+loc)
		}

		// Keyboard: "-" on the focused chart zooms out, in the URL too.
		b.do(t, chromedp.Focus(`#chart`), chromedp.KeyEvent("-"))
		waitFor(t, b, "the keyboard zoom", `location.search !== `+strconv.Quote(loc), 30*time.Second)
		b.check(t)
	})

	t.Run("dead host page", func(t *testing.T) {
		now := time.Now().Unix()
		b.do(t, chromedp.Navigate(srv.base+"/dashboard/host/"+dead.Addr4.String()+"?from="+strconv.FormatInt(now-60, 10)+"&to="+strconv.FormatInt(now+5, 10)))
		waitFor(t, b, "the status", `document.body.dataset.status === 'dead'`, 45*time.Second)
		waitFor(t, b, "points", `Number(document.body.dataset.points) >= 2`, 45*time.Second)
		// Every probe lost everything: failure marks in their colour.
		if ink := eval[int](t, b, `(`+canvasInk+`)(document.querySelector('#chart canvas'), `+cssRGB(t, b, "--fail")+`)`); ink < 20 {
			t.Errorf("%d pixels of the failure colour: failures not marked", ink)
		}
		b.check(t)
	})

	t.Run("TCP echo client page", func(t *testing.T) {
		// The overview's TCP row links to the client's page, named as in
		// the archive (a plain client: its IP address).
		b.do(t, chromedp.Navigate(srv.base+"/dashboard/"))
		waitFor(t, b, "the TCP echo row", `document.body.dataset.table === 'drawn' && !!document.querySelector('#hosts a.tcp')`, 45*time.Second)
		if href := eval[string](t, b, `document.querySelector('#hosts a.tcp').getAttribute('href')`); href != "client/127.0.0.1" {
			t.Errorf("the TCP echo row links to %q, want client/127.0.0.1", href)
		}
		b.do(t, chromedp.Navigate(eval[string](t, b, `document.querySelector('#hosts a.tcp').href`)))
		waitFor(t, b, "the client page", `document.body.dataset.page === 'client' && document.body.dataset.chart === 'drawn'`, 45*time.Second)
		if got := eval[string](t, b, `document.getElementById('hostname').textContent + ' ' + document.getElementById('m-h').closest('section').hidden`); got != "127.0.0.1 true" {
			t.Errorf("client page heading and measure section: %q, want the name and no on-demand measurement", got)
		}
		// The last minute of its archived windows (2 s each, written a few
		// seconds after they end): the median line in the colour of 0 %
		// loss, and the kernel's RTT as its own line.
		deadline := time.Now().Add(60 * time.Second)
		for {
			now := time.Now().Unix()
			b.do(t, chromedp.Navigate(srv.base+"/dashboard/client/127.0.0.1?from="+strconv.FormatInt(now-60, 10)+"&to="+strconv.FormatInt(now+5, 10)))
			waitFor(t, b, "the chart", `document.body.dataset.chart === 'drawn'`, 45*time.Second)
			if eval[int](t, b, `Number(document.body.dataset.points || 0)`) >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("fewer than 3 archived windows of the TCP echo client after a minute")
			}
			time.Sleep(2 * time.Second) // polling the archive, not a timing assertion
		}
		if ink := eval[int](t, b, `(`+canvasInk+`)(document.querySelector('#chart canvas'), `+cssRGB(t, b, "--l0")+`)`); ink < 30 {
			t.Errorf("%d pixels of the median's colour: the client's RTT line is not drawn", ink)
		}
		if ink := eval[int](t, b, `(`+canvasInk+`)(document.querySelector('#chart canvas'), `+cssRGB(t, b, "--kernel")+`)`); ink < 10 {
			t.Errorf("%d pixels of the kernel RTT's colour: its line is not drawn", ink)
		}
		b.screenshot(t, "dashboard-client")
		b.check(t)
	})

	t.Run("measure from the page", func(t *testing.T) {
		tok := srv.token(t)
		b.do(t,
			chromedp.Navigate(srv.base+"/dashboard/host/127.0.0.1"),
			chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('pingapi.token', `+strconv.Quote(tok)+`)`),
			chromedp.SetValue(`#count`, "3"),
			chromedp.Click(`#measure button`, chromedp.NodeVisible),
		)
		waitFor(t, b, "the first echo drawn", `Number(document.body.dataset.echoes || 0) >= 1`, 45*time.Second)
		waitFor(t, b, "three echoes and the summary", `document.body.dataset.echoes === '3' && document.getElementById('minfo').textContent.startsWith('Done')`, 45*time.Second)
		if ink := eval[int](t, b, `(`+canvasInk+`)(document.querySelector('#mchart canvas'), null)`); ink < 100 {
			t.Errorf("measurement chart has %d opaque pixels", ink)
		}
		b.check(t)
	})

	t.Run("a host name is text, not markup", func(t *testing.T) {
		b.do(t, chromedp.Navigate(srv.base+"/dashboard/host/"+url.PathEscape(xssName)))
		waitFor(t, b, "the page", `document.body.dataset.chart === 'drawn'`, 45*time.Second)
		if got := eval[string](t, b, `document.getElementById('hostname').textContent`); got != xssName {
			t.Errorf("heading shows %q, want the name as text %q", got, xssName)
		}
		if n := eval[int](t, b, `document.querySelectorAll('img').length`); n != 0 {
			t.Errorf("%d img elements: the name became markup", n)
		}
		b.check(t) // an alert would be a dialog here
	})

	t.Run("dark theme follows the system", func(t *testing.T) {
		setScheme := func(v string) {
			t.Helper()
			_, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		setScheme("dark")
		defer setScheme("light")
		now := time.Now().Unix()
		b.do(t, chromedp.Navigate(srv.base+"/dashboard/host/127.0.0.1?from="+strconv.FormatInt(now-60, 10)+"&to="+strconv.FormatInt(now+5, 10)))
		waitFor(t, b, "points", `document.body.dataset.chart === 'drawn' && Number(document.body.dataset.points) >= 3`, 45*time.Second)
		if bg := eval[string](t, b, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(17, 20, 24)" {
			t.Errorf("dark theme background %s", bg)
		}
		// The median is drawn in the dark theme's colour.
		if ink := eval[int](t, b, `(`+canvasInk+`)(document.querySelector('#chart canvas'), `+cssRGB(t, b, "--l0")+`)`); ink < 30 {
			t.Errorf("%d pixels of the dark median colour", ink)
		}
		b.screenshot(t, "dashboard-host-dark")
		b.check(t)
	})

	t.Run("phone", func(t *testing.T) {
		b.do(t,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile),
			chromedp.Navigate(srv.base+"/dashboard/"),
		)
		waitFor(t, b, "the host table", `document.body.dataset.table === 'drawn'`, 45*time.Second)
		if w := eval[int](t, b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("the overview is %d px wide on a 390 px phone", w)
		}
		b.screenshot(t, "dashboard-overview-phone")
		now := time.Now().Unix()
		b.do(t, chromedp.Navigate(srv.base+"/dashboard/host/127.0.0.1?from="+strconv.FormatInt(now-60, 10)+"&to="+strconv.FormatInt(now+5, 10)))
		waitFor(t, b, "the chart", `document.body.dataset.chart === 'drawn'`, 45*time.Second)
		// HiDPI: the canvas has three device pixels per CSS pixel.
		if r := eval[float64](t, b, `(() => { const c = document.querySelector('#chart canvas'); return c.width / c.getBoundingClientRect().width; })()`); r < 2.9 || r > 3.1 {
			t.Errorf("canvas at %.2f device pixels per CSS pixel, want 3", r)
		}
		if w := eval[int](t, b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("the host page is %d px wide on a 390 px phone", w)
		}
		b.screenshot(t, "dashboard-host-phone")
		b.do(t, chromedp.ResetViewport())
		b.check(t)
	})
}

func sortedNames(hosts []string) []string {
	out := append([]string(nil), hosts...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// cssRGB returns a theme colour of the page as a JavaScript [r, g, b].
func cssRGB(t testing.TB, b *browser, name string) string {
	t.Helper()
	hex := strings.TrimPrefix(eval[string](t, b, `getComputedStyle(document.documentElement).getPropertyValue('`+name+`').trim()`), "#")
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || len(hex) != 6 {
		t.Fatalf("%s is %q, not #rrggbb", name, hex)
	}
	return "[" + strconv.Itoa(int(v>>16)) + "," + strconv.Itoa(int(v>>8&255)) + "," + strconv.Itoa(int(v&255)) + "]"
}
