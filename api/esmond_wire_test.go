package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/pkg/archive"
)

// The registration of the seed's "Publishing Delay" example, as the
// perfSONAR regular testing component posts it.
const seedDelayMetadata = `{
   "tool-name":"bwctl/ping", "source":"10.1.1.1", "measurement-agent":"10.1.1.1", "destination":"10.1.1.2",
   "ip-transport-protocol":"icmp", "time-probe-interval":1, "ip-packet-size":1000,
   "event-types":[
      {"event-type":"failures"},
      {"event-type":"histogram-ttl-reverse", "summaries":[{"summary-type":"statistics","summary-window":"0"}]},
      {"event-type":"packet-duplicates-bidir"},
      {"event-type":"packet-loss-rate-bidir", "summaries":[{"summary-type":"aggregation","summary-window":"3600"},{"summary-type":"aggregation","summary-window":86400}]},
      {"event-type":"packet-count-lost-bidir"}, {"event-type":"packet-count-sent"},
      {"event-type":"histogram-rtt", "summaries":[{"summary-type":"aggregation","summary-window":"86400"},{"summary-type":"statistics","summary-window":86400.0},{"summary-type":"statistics","summary-window":"0"},{"summary-type":"base","summary-window":"0"}]},
      {"event-type":"packet-reorders-bidir"}
   ],
   "subject-type":"point-to-point", "input-destination":"host2.example.net", "sample-size":"100",
   "input-source":"host1.example.net", "time-probe-interval-f": 0.10, "flag": true, "gone": null, "list": [1, "a"]
}`

func TestDecodeMetadata(t *testing.T) {
	m, err := decodeMetadata([]byte(seedDelayMetadata))
	if err != nil {
		t.Fatal(err)
	}
	if m.SubjectType != "point-to-point" || m.Source != "10.1.1.1" || m.Destination != "10.1.1.2" ||
		m.MeasurementAgent != "10.1.1.1" || m.ToolName != "bwctl/ping" ||
		m.InputSource != "host1.example.net" || m.InputDestination != "host2.example.net" {
		t.Errorf("subject: %+v", m)
	}
	wantParams := map[string]string{
		"ip-transport-protocol": "icmp", "time-probe-interval": "1", "ip-packet-size": "1000",
		"sample-size": "100", "time-probe-interval-f": "0.10", "flag": "True", "list": `[1,"a"]`,
	}
	if !reflect.DeepEqual(m.Parameters, wantParams) {
		t.Errorf("parameters %v\nwant %v", m.Parameters, wantParams)
	}
	if len(m.EventTypes) != 8 {
		t.Fatalf("%d event types", len(m.EventTypes))
	}
	rtt := m.EventTypes[6]
	want := []archive.Summary{{Type: "aggregation", Window: 86400}, {Type: "statistics", Window: 86400}, {Type: "statistics", Window: 0}}
	if rtt.Name != "histogram-rtt" || !reflect.DeepEqual(rtt.Summaries, want) {
		t.Errorf("histogram-rtt: %+v", rtt)
	}
	if err := m.Normalize(); err != nil {
		t.Errorf("the archive refuses the seed's metadata: %v", err)
	}
}

func TestDecodeMetadataErrors(t *testing.T) {
	base := `"subject-type":"point-to-point","source":"10.1.1.1","destination":"10.1.1.2","measurement-agent":"10.1.1.1","tool-name":"t"`
	tests := []struct{ body, want string }{
		{``, "no data payload: the body is empty"},
		{`{`, "the body is not valid JSON"},
		{`{}{}`, "the body must hold exactly one JSON value"},
		{`null`, "the body must be a JSON object describing the measurement"},
		{`[]`, "the body must be a JSON object"},
		{`{"event-types":[]}`, "missing subject-type field in request"},
		{`{` + base + `}`, "missing event-types field in request"},
		{`{` + base + `,"metadata-key":"x","event-types":[]}`, "metadata-key is assigned by the server and cannot be given"},
		{`{` + base + `,"event-types":{}}`, `event-types must be a list of {"event-type": ..., "summaries": [...]} objects`},
		{`{` + base + `,"event-types":[{}]}`, "event-types[0]: no event-type defined"},
		{`{` + base + `,"event-types":[{"event-type":"rtt"}]}`, `invalid event-type "rtt"`},
		{`{` + base + `,"event-types":[{"event-type":"throughput","summaries":[{"summary-window":1}]}]}`, "a summary of throughput has no summary-type"},
		{`{` + base + `,"event-types":[{"event-type":"throughput","summaries":[{"summary-type":"median","summary-window":1}]}]}`, `invalid summary-type "median"; want aggregation, average or statistics`},
		{`{` + base + `,"event-types":[{"event-type":"throughput","summaries":[{"summary-type":"average"}]}]}`, "a average summary of throughput has no summary-window"},
		{`{` + base + `,"event-types":[{"event-type":"throughput","summaries":[{"summary-type":"average","summary-window":"day"}]}]}`, "summary-window must be an integer number of seconds"},
		{`{` + base + `,"event-types":[{"event-type":"throughput","summaries":[{"summary-type":"average","summary-window":1.5}]}]}`, "summary-window must be an integer number of seconds"},
		{`{` + base + `,"event-types":[{"event-type":"throughput","summaries":[1]}]}`, `summaries of throughput must be {"summary-type": ..., "summary-window": ...} objects`},
		{`{"subject-type":5,"event-types":[]}`, "subject-type must be a string"},
	}
	for _, tt := range tests {
		_, err := decodeMetadata([]byte(tt.body))
		checkBadRequest(t, tt.body, err, tt.want)
	}
}

func TestParseTS(t *testing.T) {
	good := map[string]int64{`1392238294`: 1392238294, `"1392238294"`: 1392238294, `" 7 "`: 7, `1397804761.7`: 1397804761, `0`: 0, `1e3`: 1000}
	for in, want := range good {
		if got, err := parseTS(json.RawMessage(in)); err != nil || got != want {
			t.Errorf("parseTS(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{`"abc"`, `"1.5"`, `null`, `-1`, `true`, `{}`, `1e300`, `"253402300800"`, `""`} {
		_, err := parseTS(json.RawMessage(in))
		checkBadRequest(t, in, err, "ts must be a Unix timestamp (whole seconds, a number or a numeric string)")
	}
}

func TestDecodePoint(t *testing.T) {
	ts, val, err := decodePoint([]byte(`{"ts": "1392238294", "val": "1000000000"}`))
	if err != nil || ts != 1392238294 || string(val) != `"1000000000"` {
		t.Fatalf("%d %s %v", ts, val, err)
	}
	for body, want := range map[string]string{
		`{"val": 1}`:            "required field ts not provided in request",
		`{"ts": 1}`:             "required field val not provided in request",
		`{"ts": "x", "val": 1}`: "ts must be a Unix timestamp (whole seconds, a number or a numeric string)",
		`[1]`:                   "the body must be a JSON object",
		`null`:                  `the body must be a JSON object {"ts": ..., "val": ...}`,
	} {
		_, _, err := decodePoint([]byte(body))
		checkBadRequest(t, body, err, want)
	}
}

// The seed's bulk example of a ping measurement.
const seedPingBulk = `{"data":[{"ts":1397804761,"val":[
 {"event-type":"histogram-ttl-reverse","val":{"59":100}},
 {"event-type":"packet-duplicates-bidir","val":0},
 {"event-type":"packet-loss-rate-bidir","val":{"denominator":"100","numerator":"0"}},
 {"event-type":"packet-count-lost-bidir","val":"0"},
 {"event-type":"packet-count-sent","val":"100"},
 {"event-type":"histogram-rtt","val":{"41.00":99,"41.10":1}},
 {"event-type":"packet-reorders-bidir","val":0}]}]}`

func TestDecodeBulk(t *testing.T) {
	vals, err := decodeBulk([]byte(seedPingBulk))
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 7 || vals[0].TS != 1397804761 || vals[5].EventType != "histogram-rtt" || string(vals[5].Raw) != `{"41.00":99,"41.10":1}` {
		t.Fatalf("%+v", vals)
	}
	for _, v := range vals {
		if _, err := archive.ParseValue(v.EventType, v.Raw); err != nil {
			t.Errorf("%s: %v", v.EventType, err)
		}
	}
	if vals, err := decodeBulk([]byte(`{"data":[]}`)); err != nil || len(vals) != 0 {
		t.Errorf("empty data: %v %v", vals, err)
	}
}

func TestDecodeBulkErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{}`, "request must contain a 'data' element"},
		{`null`, "request must contain a 'data' element"},
		{`{"data":{}}`, "the 'data' element must be an array"},
		{`{"data":null}`, "the 'data' element must be an array"},
		{`{"data":[1]}`, "data element must be an object in data list at position 1"},
		{`{"data":[{"val":[]}]}`, "missing ts field in data list at position 1"},
		{`{"data":[{"ts":1,"val":[]},{"ts":"abc","val":[]}]}`, "ts must be a Unix timestamp (whole seconds, a number or a numeric string) in data list at position 2"},
		{`{"data":[{"ts":1}]}`, "missing val field in data list at position 1"},
		{`{"data":[{"ts":1,"val":{}}]}`, "'val' field must be an array in data list at position 1"},
		{`{"data":[{"ts":1,"val":[{"val":1}]}]}`, "missing event-type field at data item 1 in value 1"},
		{`{"data":[{"ts":1,"val":[{"event-type":"throughput","val":1},{"event-type":"throughput"}]}]}`, "missing val field at data item 1 in value 2"},
		{`{"data":[{"ts":1,"val":[{"event-type":"nope","val":1}]}]}`, `invalid event type "nope" at data item 1 in value 1`},
		{`{"data":[{"ts":1,"val":[7]}]}`, `value must be an object {"event-type": ..., "val": ...} at data item 1 in value 1`},
	}
	for _, tt := range tests {
		_, err := decodeBulk([]byte(tt.body))
		checkBadRequest(t, tt.body, err, tt.want)
	}
}

// FuzzEsmondBulk: the bulk document decoder and the archive's value
// validators, as the PUT handler chains them, answer every input with
// values or a 400 with a message; they never panic.
func FuzzEsmondBulk(f *testing.F) {
	for _, s := range []string{
		seedPingBulk, `{"data":[]}`, `{"data":[{"ts":"1","val":[{"event-type":"throughput","val":"1e3"}]}]}`,
		`{"data":[{"ts":1.5,"val":[{"event-type":"histogram-rtt","val":{"41.0":"bad"}}]}]}`,
		`{"data":[{"ts":1,"val":[{"event-type":"packet-loss-rate","val":{"numerator":-1,"denominator":0}}]}]}`,
		`{"data":[{"ts":1,"val":[{"event-type":"throughput-subintervals","val":[{"start":0,"duration":1,"val":1}]}]}]}`,
		`{"data":[{"ts":1,"val":[{"event-type":"packet-trace","val":[{"ttl":"1","ip":"10.1.1.1","rtt":"0.2","success":1,"error_message":null}]}]}]}`,
		`{"data":[{"ts":1,"val":[{"event-type":"failures","val":{"error":"unreachable"}}]}]}`,
		`{"data":`, `[]`, `{"data":[{"ts":null,"val":null}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(err error) {
			e := publicError(esmondStoreError(err))
			if e.Status != http.StatusBadRequest || strings.TrimSpace(e.Message) == "" {
				t.Fatalf("%q: %d %q (%v)", body, e.Status, e.Message, err)
			}
		}
		vals, err := decodeBulk(body)
		if err != nil {
			check(err)
			return
		}
		for _, v := range vals {
			if v.TS < 0 || v.TS > esmondMaxTime {
				t.Fatalf("ts %d accepted", v.TS)
			}
			if _, known := archive.EventTypeOf(v.EventType); !known {
				t.Fatalf("event type %q accepted", v.EventType)
			}
			if _, err := archive.ParseValue(v.EventType, v.Raw); err != nil {
				check(err)
			}
		}
	})
}

// TestAppendPoints: the hand-written data writer is what encoding/json
// writes for the same points.
func TestAppendPoints(t *testing.T) {
	for _, pts := range [][]archive.Point{
		nil,
		{{TS: 1, Val: json.RawMessage(`10.0`)}},
		{{TS: 1397504013, Val: json.RawMessage(`{"34.4":506,"34.5":85}`)}, {TS: 0, Val: json.RawMessage(`[{"ip":"10.1.1.1","rtt":"0.2"}]`)}, {TS: 5}},
	} {
		want := "[]"
		if len(pts) > 0 {
			b, err := json.Marshal(pts)
			if err != nil {
				t.Fatal(err)
			}
			want = string(b)
		}
		if got := string(appendPoints(nil, pts)); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}
