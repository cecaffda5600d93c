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
