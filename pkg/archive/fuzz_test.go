package archive

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParseValue: any bytes for any event type either parse into a value
// whose JSON is valid and whose stored form reads back, or fail with an
// *InputError; never a panic.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{`1`, `"1"`, `1.5`, `{"numerator":1,"denominator":2}`, `{"41.00":99,"41.10":1}`,
		`{"error":"x"}`, `[{"val":"1","duration":"1","start":"0"}]`, `[{"ttl":"1","ip":"10.0.0.1","rtt":"0.2"}]`, `null`, `[`} {
		for _, et := range []string{"throughput", "time-error-estimates", "packet-loss-rate", "histogram-rtt", "failures", "throughput-subintervals", "packet-trace"} {
			f.Add(et, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, et string, raw []byte) {
		v, err := ParseValue(et, raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		b, err := v.MarshalJSON()
		if err != nil || !json.Valid(b) {
			t.Fatalf("invalid JSON %q: %v", b, err)
		}
		if _, err := decodeStored(v.Type, v.storage()); err != nil {
			t.Fatalf("stored form %q does not read back: %v", v.storage(), err)
		}
		if v.Type == TypeHistogram && !json.Valid(HistogramStatistics(v.Hist)) {
			t.Fatal("statistics are not valid JSON")
		}
	})
}

// FuzzDecodeRow: corrupt rows fail cleanly; valid ones re-encode to the
// same bytes.
func FuzzDecodeRow(f *testing.F) {
	m := testMeasurement(fixedNow(), "x", 1000, Lost, 2000)
	m.Duplicates, m.Error = 1, "boom"
	f.Add(encodeRow(nil, &m))
	f.Add([]byte{0, 0})
	f.Add([]byte{3, 1, 1, 0, 1, 58})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Measurement
		if err := decodeRow(b, &m); err != nil {
			return
		}
		if m.Received() != len(m.TTLs) && len(m.TTLs) != 0 {
			t.Fatalf("%d replies, %d TTLs", m.Received(), len(m.TTLs))
		}
		var back Measurement
		if err := decodeRow(encodeRow(nil, &m), &back); err != nil {
			t.Fatalf("re-encoded row does not decode: %v", err)
		}
	})
}
