package api

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

var esmondNow = time.Unix(1398800000, 0)

func mustQuery(t testing.TB, s string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestParseEsmondTime: esmond's handle_time_filters, combination by
// combination (esmond's test_get_metadata_list uses the same ones).
func TestParseEsmondTime(t *testing.T) {
	now := esmondNow.Unix()
	tests := []struct {
		q    string
		want esmondTime
	}{
		{"", esmondTime{}},
		{"time=1398798965", esmondTime{Set: true, Begin: 1398798965, End: 1398798965}},
		{"time=5&time-start=1&time-end=2", esmondTime{Set: true, Begin: 5, End: 5}},
		{"time-start=1398798840&time-end=1398798960", esmondTime{Set: true, Begin: 1398798840, End: 1398798960}},
		{"time-start=1398798900&time-range=60", esmondTime{Set: true, Begin: 1398798900, End: 1398798960}},
		{"time-end=1398798900&time-range=60", esmondTime{Set: true, Begin: 1398798840, End: 1398798900}},
		{"time-start=1&time-end=9&time-range=1", esmondTime{Set: true, Begin: 1, End: 9}},
		{"time-start=1398798900", esmondTime{Set: true, Begin: 1398798900, Open: true}},
		{"time-end=1398798900", esmondTime{Set: true, Begin: 0, End: 1398798900}},
		{"time-range=600", esmondTime{Set: true, Begin: now - 600, Open: true}},
		{"time-end=10&time-range=60", esmondTime{Set: true, Begin: 0, End: 10}},
		{"time-start=5&time-start=7", esmondTime{Set: true, Begin: 7, Open: true}}, // the last value, as Django
		{"time-start=%2012%20", esmondTime{Set: true, Begin: 12, Open: true}},
	}
	for _, tt := range tests {
		got, err := parseEsmondTime(mustQuery(t, tt.q), esmondNow)
		if err != nil {
			t.Errorf("%q: %v", tt.q, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%q: got %+v, want %+v", tt.q, got, tt.want)
		}
	}
}

func TestParseEsmondTimeErrors(t *testing.T) {
	tests := []struct{ q, want string }{
		{"time=abc", `time must be a Unix timestamp in whole seconds, got "abc"`},
		{"time-start=1.5", `time-start must be a Unix timestamp in whole seconds, got "1.5"`},
		{"time-end=-1", `time-end must be a Unix timestamp in whole seconds, got "-1"`},
		{"time-range=", `time-range must be a Unix timestamp in whole seconds, got ""`},
		{"time-start=99999999999999999999", `time-start must be a Unix timestamp in whole seconds, got "99999999999999999999"`},
		{"time-start=253402300800", `time-start must be a Unix timestamp in whole seconds, got "253402300800"`},
		{"time-start=10&time-end=9", "the requested start time must not be after the end time"},
	}
	for _, tt := range tests {
		_, err := parseEsmondTime(mustQuery(t, tt.q), esmondNow)
		checkBadRequest(t, tt.q, err, tt.want)
	}
}

func checkBadRequest(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted; want 400 %q", what, want)
		return
	}
	e := publicError(err)
	if e.Status != http.StatusBadRequest || e.Message != want {
		t.Errorf("%s: %d %q; want 400 %q", what, e.Status, e.Message, want)
	}
}

func TestParseEsmondPage(t *testing.T) {
	tests := []struct {
		q    string
		want esmondPage
		err  string
	}{
		{"", esmondPage{Limit: 1500}, ""},
		{"limit=10", esmondPage{Limit: 10}, ""},
		{"limit=10&offset=10", esmondPage{Limit: 10, Offset: 10}, ""},
		{"offset=10", esmondPage{Limit: 1500, Offset: 10}, ""},
		{"limit=0", esmondPage{Limit: 1500}, ""},
		{"limit=1000000", esmondPage{Limit: EsmondMaxLimit}, ""},
		{"limit=abc", esmondPage{}, `limit must be a non-negative integer, got "abc"`},
		{"limit=-1", esmondPage{}, `limit must be a non-negative integer, got "-1"`},
		{"offset=1e3", esmondPage{}, `offset must be a non-negative integer, got "1e3"`},
		{"offset=99999999999", esmondPage{}, `offset must be a non-negative integer, got "99999999999"`},
	}
	for _, tt := range tests {
		got, err := parseEsmondPage(mustQuery(t, tt.q))
		if tt.err != "" {
			checkBadRequest(t, tt.q, err, tt.err)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.q, got, err, tt.want)
		}
	}
}

func TestParseEsmondSearch(t *testing.T) {
	known := func(s string) bool { return s == "histogram-rtt" || s == "throughput" }
	q := "source=lbl-pt1.es.net&destination=10.1.1.2&measurement-agent=::1&input-source=h1&input-destination=h2" +
		"&tool-name=pingapi/ping&subject-type=point-to-point&metadata-key=abc&event-type=histogram-rtt" +
		"&summary-type=statistics&summary-window=086400&dns-match-rule=only-v4&ip-transport-protocol=icmp" +
		"&time-duration=20&format=json&limit=5&offset=5&time-range=60"
	got, err := parseEsmondSearch(mustQuery(t, q), esmondNow, known)
	if err != nil {
		t.Fatal(err)
	}
	want := esmondSearch{
		Time:  esmondTime{Set: true, Begin: esmondNow.Unix() - 60, Open: true},
		Page:  esmondPage{Limit: 5, Offset: 5},
		Rule:  dnsOnlyV4,
		Hosts: map[string]string{"source": "lbl-pt1.es.net", "destination": "10.1.1.2", "measurement-agent": "::1"},
		Exact: map[string]string{"input-source": "h1", "input-destination": "h2", "tool-name": "pingapi/ping",
			"subject-type": "point-to-point", "metadata-key": "abc", "event-type": "histogram-rtt",
			"summary-type": "statistics", "summary-window": "86400"},
		Params: map[string]string{"ip-transport-protocol": "icmp", "time-duration": "20"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// The seed's own spelling of the rule.
	if got, err := parseEsmondSearch(mustQuery(t, "dns-match-rule=v6-only"), esmondNow, known); err != nil || got.Rule != dnsOnlyV6 {
		t.Errorf("v6-only: %v %v", got.Rule, err)
	}
	// Tokens in the query string are never filters.
	if got, _ := parseEsmondSearch(mustQuery(t, "access_token=x"), esmondNow, known); len(got.Params) != 0 {
		t.Errorf("access_token became a filter: %v", got.Params)
	}
}

func TestParseEsmondSearchErrors(t *testing.T) {
	known := func(s string) bool { return s == "histogram-rtt" }
	many := make([]string, 0, esmondMaxFreeForm+1)
	for i := 0; i <= esmondMaxFreeForm; i++ {
		many = append(many, "p"+strings.Repeat("x", i)+"=1")
	}
	tests := []struct{ q, want string }{
		{"format=xml", `format must be json, got "xml"`},
		{"limit=abc", `limit must be a non-negative integer, got "abc"`},
		{"dns-match-rule=v5", `dns-match-rule must be one of v4v6, only-v4, only-v6, prefer-v4, prefer-v6; got "v5"`},
		{"source=", "source must be an IP address or a host name, got an empty value"},
		{"event-type=throughput-bogus", `event-type "throughput-bogus" is not an event type of this archive`},
		{"summary-type=averages", `summary-type must be one of base, aggregation, average, statistics; got "averages"`},
		{"summary-window=abc", `summary-window must be a whole number of seconds, got "abc"`},
		{"summary-window=-5", `summary-window must be a whole number of seconds, got "-5"`},
		{"=x", "a query parameter has an empty name"},
		{strings.Join(many, "&"), "at most 16 free-form filters may be combined"},
		{"time-start=2&time-end=1", "the requested start time must not be after the end time"},
	}
	for _, tt := range tests {
		_, err := parseEsmondSearch(mustQuery(t, tt.q), esmondNow, known)
		checkBadRequest(t, tt.q, err, tt.want)
	}
}

func TestParseEsmondData(t *testing.T) {
	got, err := parseEsmondData(mustQuery(t, "time-start=10&time-end=20&limit=1000&format=json&anything=else"), esmondNow)
	if err != nil {
		t.Fatal(err)
	}
	want := esmondDataQuery{Time: esmondTime{Set: true, Begin: 10, End: 20}, Page: esmondPage{Limit: 1000}}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	_, err = parseEsmondData(mustQuery(t, "offset=x"), esmondNow)
	checkBadRequest(t, "offset=x", err, `offset must be a non-negative integer, got "x"`)
}

// FuzzEsmondQuery: whatever the query string, the parsers of the esmond
// read routes either accept it with sane values or answer a 400 with a
// message; they never panic.
func FuzzEsmondQuery(f *testing.F) {
	for _, s := range []string{
		"", "source=10.1.1.1&destination=host2.example.net&event-type=histogram-rtt",
		"time-start=1397476800&time-end=1397563200", "time-range=86400&limit=10&offset=10",
		"summary-type=statistics&summary-window=86400&dns-match-rule=prefer-v6",
		"time=abc&limit=-1", "time-end=5&time-range=99999999999", "%zz=1&;=;", "ip-tos=32&bw-parallel-streams=2&format=json",
		"time-start=253402300799&time-range=253402300799",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // net/http would not hand such a query to a handler either
		}
		check := func(err error) {
			if err == nil {
				return
			}
			e := publicError(err)
			if e.Status != http.StatusBadRequest || e.Message == "" {
				t.Fatalf("%q: %d %q", raw, e.Status, e.Message)
			}
		}
		s, err := parseEsmondSearch(q, esmondNow, func(string) bool { return true })
		check(err)
		if err == nil {
			if s.Page.Limit < 1 || s.Page.Limit > EsmondMaxLimit || s.Page.Offset < 0 {
				t.Fatalf("%q: page %+v", raw, s.Page)
			}
			if s.Time.Set && !s.Time.Open && s.Time.End < s.Time.Begin || s.Time.Begin < 0 {
				t.Fatalf("%q: time %+v", raw, s.Time)
			}
			if len(s.Params) > esmondMaxFreeForm {
				t.Fatalf("%q: %d free-form filters", raw, len(s.Params))
			}
		}
		_, err = parseEsmondData(q, esmondNow)
		check(err)
	})
}
