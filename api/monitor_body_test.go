package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/pkg/monitor"
)

// addressList is a JSON array of n distinct public addresses (11.x.y.z).
func addressList(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"11.%d.%d.%d"`, i>>16&255, i>>8&255, i&255)
	}
	b.WriteByte(']')
	return b.String()
}

// postIPList POSTs body to base over real HTTP; chunked sends it without a
// Content-Length.
func postIPList(t testing.TB, base, body string, chunked bool) (int, string) {
	t.Helper()
	var r io.Reader = strings.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // hides the length: sent chunked
	}
	return call(t, base, "POST", "/config/ip-list", r)
}

// TestMonitorPostBodyBound: the body of POST /config/ip-list is bounded by
// Deps.MonitorMaxBody (MONITOR_MAX_BODY), announced or chunked.
func TestMonitorPostBodyBound(t *testing.T) {
	e := newMonitorEnv(t, nil, func(d *Deps) { d.MonitorMaxBody = 64 << 10 })
	base := e.listen(t)
	fits := addressList(3000) // about 46 KB
	over := addressList(6000) // about 78 KB
	for _, chunked := range []bool{false, true} {
		if st, body := postIPList(t, base, over, chunked); st != 413 {
			t.Errorf("chunked=%v: %d bytes: %d %s, want 413", chunked, len(over), st, body)
		} else if code, _, _ := monitorBody(t, body); code != CodeBodyTooLarge {
			t.Errorf("code %q", code)
		}
	}
	if st, body := postIPList(t, base, fits, true); st != 200 {
		t.Errorf("%d bytes: %d %s", len(fits), st, body)
	}
}

// TestMonitorPostBulkList: the documented 100,000-host list fits the default
// bound, and reading it costs memory in proportion to the list, not copies
// of the body.
func TestMonitorPostBulkList(t *testing.T) {
	p := &fakePinger{ready: true}
	m, err := monitor.New(monitor.Options{Pinger: p, Resolve: monitorResolve, MaxHosts: 1000000})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(d *Deps) { d.Pinger = p; d.Monitor = m })
	base := e.listen(t)
	list := addressList(100000)
	if len(list) > DefaultMonitorMaxBody {
		t.Fatalf("the documented list (%d bytes) does not fit the default bound", len(list))
	}
	if st, body := postIPList(t, base, list, false); st != 200 || !strings.Contains(body, `"mutable":100000`) {
		t.Fatalf("100,000 hosts: %d %s", st, body)
	}

	// Memory: decode a 4 MiB list and count what it allocates.
	big := addressList(260000)
	r := bytes.NewReader([]byte(big))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req, err := decodeIPList(r, 0)
	runtime.ReadMemStats(&after)
	if err != nil || len(req.names) != 260000 {
		t.Fatalf("decode: %v, %d names", err, len(req.names))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte body of %d names: %d bytes allocated (%.2f per body byte)", len(big), len(req.names), alloc, float64(alloc)/float64(len(big)))
	if alloc > uint64(4*len(big)) {
		t.Errorf("decoding a %d-byte body allocated %d bytes: more than 4 bytes per body byte", len(big), alloc)
	}
}

// TestMonitorMaxHosts: past MONITOR_MAX_HOSTS a change is refused with a
// clear 413 (POST stops reading a list longer than the cap).
func TestMonitorMaxHosts(t *testing.T) {
	p := &fakePinger{ready: true}
	m, err := monitor.New(monitor.Options{Pinger: p, Resolve: monitorResolve, MaxHosts: 10, Immutable: []string{"192.0.2.1", "192.0.2.2"}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(d *Deps) { d.Pinger = p; d.Monitor = m })
	base := e.listen(t)
	for _, tt := range []struct {
		body   string
		status int
	}{
		{addressList(100000), 413}, // refused while reading
		{addressList(9), 413},      // 2 + 9 > 10
		{addressList(8), 200},
	} {
		st, body := postIPList(t, base, tt.body, false)
		if st != tt.status {
			t.Fatalf("POST of %d bytes: %d %s, want %d", len(tt.body), st, body, tt.status)
		}
		if st == 413 {
			if code, msg, _ := monitorBody(t, body); code != CodeTooManyHosts || !strings.Contains(msg, "MONITOR_MAX_HOSTS") {
				t.Errorf("413: %s", body)
			}
		}
	}
	req, _ := http.NewRequest("PUT", base+"/config/ip-list/192.0.2.50", nil)
	req.Header.Set("Authorization", "Bearer "+token("a"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), CodeTooManyHosts) {
		t.Errorf("PUT on a full list: %d %s", resp.StatusCode, b)
	}
}

// FuzzDecodeIPList: the streaming reader agrees with encoding/json on what
// is an array of strings (or the object form) and on the names it holds.
func FuzzDecodeIPList(f *testing.F) {
	for _, s := range []string{`["192.0.2.1","h.test"]`, ` [ ] `, `{"ip-list":["a"],"mode":"replace"}`, `{"mode":"x","other":[1,{"a":"]"}],"ip-list":[]}`,
		`["a\nb","\u0041"]`, `[1,"a"]`, `[1,`, `["a"] x`, `{"ip-list":"a"}`, `"a"`, `["\"]`, `[true]`, `[null]`, `{}`, `[[]]`, `["a",]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, err := decodeIPList(strings.NewReader(body), 0)
		// What encoding/json reads: the strings up to the first element
		// that is not one, and its 1-based index.
		expect := func(elems []any) ([]string, int) {
			var names []string
			for i, e := range elems {
				s, ok := e.(string)
				if !ok {
					return names, i + 1
				}
				names = append(names, s)
			}
			return names, 0
		}
		var arr []any
		arrErr := json.Unmarshal([]byte(body), &arr)
		var obj struct {
			IPList *[]any  `json:"ip-list"`
			Mode   *string `json:"mode"`
		}
		objErr := json.Unmarshal([]byte(body), &obj)
		switch {
		case arrErr == nil && arr != nil:
			names, bad := expect(arr)
			if err != nil || got.bad != bad || !slices.Equal(got.names, names) {
				t.Fatalf("%q: json reads %q (bad %d), decodeIPList %q (bad %d) %v", body, names, bad, got.names, got.bad, err)
			}
		case objErr == nil && obj.IPList != nil && *obj.IPList != nil && strings.HasPrefix(strings.TrimSpace(body), "{"):
			names, bad := expect(*obj.IPList)
			if err != nil || got.bad != bad || !slices.Equal(got.names, names) {
				t.Fatalf("%q: json reads %q (bad %d), decodeIPList %q (bad %d) %v", body, names, bad, got.names, got.bad, err)
			}
		case err == nil && got.bad == 0:
			t.Fatalf("%q: accepted as %q, which encoding/json refuses (%v, %v)", body, got.names, arrErr, objErr)
		}
	})
}
