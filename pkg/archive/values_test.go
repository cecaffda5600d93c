package archive

import (
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestParseValue(t *testing.T) {
	for _, tt := range []struct {
		et, raw string
		want    string // MarshalJSON of the value; "" = invalid
	}{
		{"throughput", `1000000000`, `1000000000.0`},
		{"throughput", `"8446270000"`, `8446270000.0`},
		{"throughput", `10.0`, `10.0`},
		// A JSON number with a fraction is truncated, as esmond's int() does:
		// pScheduler posts iperf3's throughput-bits (a float) as throughput.
		{"throughput", `9412345678.75`, `9412345678.0`},
		{"throughput", `-2.5`, `-2.0`},
		{"throughput", `1e300`, ""},
		{"throughput", `"10.5"`, ""}, // int("10.5") fails in Python too
		{"throughput", `"abc"`, ""},
		{"throughput", `null`, ""},
		{"throughput", `1 2`, ""},
		{"time-error-estimates", `"0.000124"`, `0.000124`},
		{"time-error-estimates", `"NaN"`, ""},
		{"packet-loss-rate", `{"numerator":"0","denominator":"600"}`, `0.0`},
		{"packet-loss-rate", `{"numerator":3,"denominator":4}`, `0.75`},
		{"packet-loss-rate", `{"numerator":1,"denominator":0}`, ""},
		{"packet-loss-rate", `{"numerator":-1,"denominator":2}`, ""},
		{"packet-loss-rate", `{"numerator":1}`, ""},
		{"packet-loss-rate", `0.5`, ""},
		{"histogram-rtt", `{"41.00":99,"41.10":"1"}`, `{"41.00":99,"41.10":1}`},
		{"histogram-rtt", `{"41.00":1.5}`, ""},
		{"histogram-rtt", `{"41.00":-1}`, ""},
		{"histogram-rtt", `[1]`, ""},
		{"failures", `{"error":"unreachable"}`, `{"error":"unreachable"}`},
		{"failures", `null`, ""},
		{"throughput-subintervals", `[{"val":"47619700","duration":"1.034930","start":"0.000000"}]`, `[{"duration":"1.034930","start":"0.000000","val":"47619700"}]`},
		{"throughput-subintervals", `[{"val":"x","duration":"1","start":"0"}]`, ""},
		{"throughput-subintervals", `{"a":1}`, ""},
		{"throughput-subintervals", `[]`, ""}, // esmond's SubintervalValidator: "Empty subinterval provided"
		{"packet-retransmits-subintervals", `[]`, ""},
		{"streams-throughput-subintervals", `[]`, `[]`}, // a json type in esmond: any JSON
		{"packet-trace", `[{"success":1,"error_message":null,"ip":"10.1.1.1","query":"1","ttl":"1","rtt":"0.278","mtu":"9000"}]`,
			`[{"error_message":null,"ip":"10.1.1.1","mtu":"9000","query":"1","rtt":"0.278","success":1,"ttl":"1"}]`},
		{"packet-trace", `[{"ip":"10.1.1.1"}]`, ""},
		{"packet-trace", `[{"ttl":"x"}]`, ""},
		{"no-such-type", `1`, ""},
	} {
		v, err := ParseValue(tt.et, []byte(tt.raw))
		if tt.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s %s: err %v, want ErrInvalid", tt.et, tt.raw, err)
			}
			var ie *InputError
			if errors.As(err, &ie) && ie.Detail == "" {
				t.Errorf("%s %s: empty detail", tt.et, tt.raw)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tt.et, tt.raw, err)
			continue
		}
		b, _ := v.MarshalJSON()
		if string(b) != tt.want {
			t.Errorf("%s %s: %s, want %s", tt.et, tt.raw, b, tt.want)
		}
		back, err := decodeStored(v.Type, v.storage())
		if err != nil || !reflect.DeepEqual(back, v) {
			t.Errorf("%s %s: stored form does not round-trip: %+v %v", tt.et, tt.raw, back, err)
		}
	}
}

// TestHistogramStatisticsEsmond: the seed's own statistics example (600
// samples, 106 at 34.3 ms and 494 at 34.4 ms) gives esmond's figures, with
// minimum, maximum and mode as numbers: esmond's HistogramValidator has
// written them as floats since 2014 (the seed's example, older, shows
// strings), and its test suite compares them with floats.
func TestHistogramStatisticsEsmond(t *testing.T) {
	var got map[string]any
	if err := json.Unmarshal(HistogramStatistics(map[string]int64{"34.3": 106, "34.4": 494}), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"maximum": 34.4, "minimum": 34.3, "mode": []any{34.4}, "mean": 34.38233333333333,
		"median": 34.4, "percentile-25": 34.4, "percentile-75": 34.4, "percentile-95": 34.4,
		"standard-deviation": 0.03813863599495395, "variance": 0.001454555555555597}
	for k, w := range want {
		if f, ok := w.(float64); ok {
			if g, _ := got[k].(float64); math.Abs(g-f) > 1e-9 {
				t.Errorf("%s = %v, want %v", k, got[k], w)
			}
			continue
		}
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	// NIST interpolation: 1, 2, 3, 4.
	json.Unmarshal(HistogramStatistics(map[string]int64{"1": 1, "2": 1, "3": 1, "4": 1}), &got)
	for k, w := range map[string]float64{"percentile-25": 1.25, "median": 2.5, "percentile-75": 3.75, "percentile-95": 4, "mean": 2.5, "variance": 1.25} {
		if got[k] != w {
			t.Errorf("1..4: %s = %v, want %v", k, got[k], w)
		}
	}
	if m := got["mode"].([]any); len(m) != 4 {
		t.Errorf("mode %v, want all four", m)
	}
	for _, h := range []map[string]int64{{}, {"a": 1}, {"1": 0}} {
		if s := string(HistogramStatistics(h)); s != "{}" {
			t.Errorf("%v: %s, want {}", h, s)
		}
	}
}

func TestRowRoundTrip(t *testing.T) {
	for _, m := range []Measurement{
		{Sent: 10, RTTs: []time.Duration{41020 * time.Microsecond, Lost, 40 * time.Millisecond, 0, 3 * time.Second, Lost, Lost, 5 * time.Microsecond, 41 * time.Millisecond, 41 * time.Millisecond},
			TTLs: []uint8{58, 58, 58, 58, 58, 58, 58}},
		{Sent: 3, RTTs: []time.Duration{time.Millisecond, 2 * time.Millisecond, Lost}, TTLs: []uint8{58, 57}, Duplicates: 2, Late: 1, Reorders: 1},
		{Sent: 2, RTTs: []time.Duration{Lost, Lost}},
		{Sent: 0, RTTs: []time.Duration{}, Error: "network unreachable"},
	} {
		b := encodeRow(nil, &m)
		var got Measurement
		if err := decodeRow(b, &got); err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		if got.Sent != m.Sent || !reflect.DeepEqual(got.RTTs, m.RTTs) || len(got.TTLs) != len(m.TTLs) ||
			got.Duplicates != m.Duplicates || got.Late != m.Late || got.Reorders != m.Reorders || got.Error != m.Error {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, m)
		}
		if len(m.TTLs) > 0 && !reflect.DeepEqual(got.TTLs, m.TTLs) {
			t.Errorf("TTLs %v, want %v", got.TTLs, m.TTLs)
		}
	}
	// A monitor probe of 10 echoes over the internet fits in a few dozen bytes.
	m := Measurement{Sent: 10, TTLs: make([]uint8, 10)}
	for i := range 10 {
		m.RTTs = append(m.RTTs, 40*time.Millisecond+time.Duration(i*137)*time.Microsecond)
	}
	if n := len(encodeRow(nil, &m)); n > 24 {
		t.Errorf("10 internet RTTs take %d bytes", n)
	}
}

func TestKeyOf(t *testing.T) {
	a, b := throughputMetadata(), throughputMetadata()
	// Order of event types and summaries does not matter.
	b.EventTypes[0], b.EventTypes[1] = b.EventTypes[1], b.EventTypes[0]
	b.EventTypes[2].Summaries[0], b.EventTypes[2].Summaries[2] = b.EventTypes[2].Summaries[2], b.EventTypes[2].Summaries[0]
	b.Source = "10.1.1.01"[:0] + "10.1.1.1"
	for _, m := range []*Metadata{&a, &b} {
		if err := m.Normalize(); err != nil {
			t.Fatal(err)
		}
	}
	if KeyOf(&a) != KeyOf(&b) {
		t.Error("identical metadata, different keys")
	}
	b.Parameters["x"] = "1"
	if KeyOf(&a) == KeyOf(&b) {
		t.Error("different metadata, same key")
	}
	c := throughputMetadata()
	c.Destination = "2001:DB8::1"
	if err := c.Normalize(); err != nil || c.Destination != "2001:db8::1" {
		t.Errorf("IPv6 canonical form: %q %v", c.Destination, err)
	}
}

// TestFromResult: a probe result becomes a row with µs RTTs, lost requests
// and the reorders counted from arrival times.
func TestFromResult(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	res := probeResult(t0)
	m := FromResult(res, "host.example", ToolMonitor, netip.MustParseAddr("192.0.2.1"), reqOf(res))
	want := []time.Duration{10 * time.Millisecond, Lost, 2500 * time.Microsecond, 1 * time.Millisecond}
	if !reflect.DeepEqual(m.RTTs, want) || m.Received() != 3 || m.Sent != 4 {
		t.Fatalf("RTTs %v, want %v", m.RTTs, want)
	}
	// seq 0 arrives at 10 ms, seq 2 at 2 s + 2.5 ms, seq 3 at 3 s + 1 ms:
	// in order. Make seq 0 late enough to arrive after seq 2.
	res.Packets[0].RTT = 2100 * time.Millisecond
	m = FromResult(res, "host.example", ToolMonitor, netip.MustParseAddr("192.0.2.1"), reqOf(res))
	if m.Reorders != 1 {
		t.Errorf("reorders %d, want 1", m.Reorders)
	}
	if s := m.Summary(); s.Received != 3 || s.Loss != 25 {
		t.Errorf("summary %+v", s)
	}
}

func TestRTTBucketNames(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{41020 * time.Microsecond, "41.02"}, {41024 * time.Microsecond, "41.02"}, {41025 * time.Microsecond, "41.03"},
		{5 * time.Microsecond, "0.01"}, {4 * time.Microsecond, "0.00"}, {3 * time.Second, "3000.00"}, {100 * time.Microsecond, "0.10"}} {
		if got := RTTBucket(tt.d); got != tt.want {
			t.Errorf("RTTBucket(%v) = %s, want %s", tt.d, got, tt.want)
		}
		if got := rttKey(int64((tt.d + 5*time.Microsecond) / (10 * time.Microsecond))); got != tt.want {
			t.Errorf("rttKey(%v) = %s, want %s", tt.d, got, tt.want)
		}
	}
}
