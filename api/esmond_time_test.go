package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestEsmondSearchTimeAnyEventType: esmond's search selects a record when
// one of its event types has a time-updated in the requested range
// (Q(pseventtypes__time_updated__gte/lte) in one filter() call), and, with
// an event-type, summary-type or summary-window filter, that same event
// type must match both. The newest time-updated of the record alone would
// lose a record whose throughput is old but whose failures are recent to
// time-end, and keep it for event-type=throughput&time-start=<recent>.
func TestEsmondSearchTimeAnyEventType(t *testing.T) {
	e, key := dataEnv(t)
	base := "/esmond/perfsonar/archive/" + key + "/"
	wantStatus(t, e.write(http.MethodPost, base+"throughput/base", point(1000, "10")), http.StatusCreated)
	wantStatus(t, e.write(http.MethodPost, base+"failures/base", point(5000, `{"error": "x"}`)), http.StatusCreated)
	count := func(q string) int {
		t.Helper()
		body := wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/?"+q, ""), http.StatusOK)
		return len(decodeJSON[[]map[string]any](t, body))
	}
	for q, want := range map[string]int{
		"time-start=4000":                                   1,
		"time-end=2000":                                     1, // throughput at 1000
		"time=1000":                                         1,
		"time-start=500&time-end=1500":                      1,
		"time-start=2000&time-end=4000":                     0,
		"event-type=throughput&time-end=2000":               1,
		"event-type=throughput&time-start=4000":             0, // failures is recent, throughput is not
		"event-type=failures&time-start=4000":               1,
		"event-type=failures&time-end=2000":                 0,
		"summary-type=average&time-start=4000":              0, // the average summary is throughput's
		"summary-type=average&time-end=2000":                1,
		"summary-window=86400&time-range=0&time-start=1000": 1,
	} {
		if got := count(q); got != want {
			t.Errorf("%s: %d records, want %d", q, got, want)
		}
	}
	// Paging counts the same matches.
	body := wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/?time-end=2000&limit=1", ""), http.StatusOK)
	if !strings.Contains(body, `"metadata-count-total":1`) {
		t.Errorf("metadata-count-total: %s", body)
	}
}

// TestEsmondSummaryTimeFilterOnWindowStart: a summary's time filters select
// windows by their ts, the start of the window, as esmond's column slice
// does. esmond's client pages a summary 1,000 windows at a time with
// time-start = last ts + 1; a window that only overlaps the range would
// come back on the next page, a duplicate in every page.
func TestEsmondSummaryTimeFilterOnWindowStart(t *testing.T) {
	e, key := dataEnv(t)
	const day = int64(1398902400)
	base := "/esmond/perfsonar/archive/" + key + "/throughput/"
	wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", bulk("throughput", day+3000, 30000, "1", "2", "3", "4")), http.StatusCreated)
	for q, want := range map[string]string{
		"":                       `[{"ts":1398902400,"val":6.0},{"ts":1398988800,"val":4.0}]`,
		"?time-start=1398902401": `[{"ts":1398988800,"val":4.0}]`, // the client's next page
		"?time-start=1398906400": `[{"ts":1398988800,"val":4.0}]`,
		"?time-end=1398988799":   `[{"ts":1398902400,"val":6.0}]`,
		"?time-start=1398902400&time-end=1398902400": `[{"ts":1398902400,"val":6.0}]`,
		"?time=1398988800":                           `[{"ts":1398988800,"val":4.0}]`,
		"?time-start=1398902401&time-end=1398988799": `[]`,
	} {
		if got := js(e.read(t, base+"aggregations/86400"+q)); got != want {
			t.Errorf("aggregations/86400%s: %s, want %s", q, got, want)
		}
	}
}
