package archive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Value is one validated data value of an event type. Exactly the fields of
// its Type are meaningful. Values are immutable once parsed.
type Value struct {
	Type  ValueType
	Int   int64            // TypeInteger
	Float float64          // TypeFloat
	Num   int64            // TypePercentage numerator, ≥ 0
	Den   int64            // TypePercentage denominator, > 0
	Hist  map[string]int64 // TypeHistogram: bucket → count (≥ 0)
	JSON  json.RawMessage  // TypeJSON, TypeSubintervals, TypePacketTrace: compact JSON
}

// MaxHistogramBuckets bounds the buckets of one histogram value.
const MaxHistogramBuckets = 100000

// ParseValue validates raw, the JSON "val" of a point of eventType, and
// returns it normalised. Numbers may be JSON numbers or strings holding
// numbers (perfSONAR's writers send both). Errors are *InputError with a
// message fit for an HTTP 400 "detail". Safe for concurrent use.
func ParseValue(eventType string, raw []byte) (Value, error) {
	t, ok := eventTypes[eventType]
	if !ok {
		return Value{}, inputErrorf("unknown event type %q", eventType)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return Value{}, inputErrorf("%s: value is not valid JSON", eventType)
	}
	if dec.More() {
		return Value{}, inputErrorf("%s: value is not valid JSON", eventType)
	}
	return parseTyped(eventType, t, v)
}

// ParseDecoded is ParseValue for a value already decoded by encoding/json
// (with or without UseNumber).
func ParseDecoded(eventType string, v any) (Value, error) {
	t, ok := eventTypes[eventType]
	if !ok {
		return Value{}, inputErrorf("unknown event type %q", eventType)
	}
	return parseTyped(eventType, t, v)
}

// parseTyped validates a decoded value of eventType, of type t.
func parseTyped(eventType string, t ValueType, v any) (Value, error) {
	val, err := parseAny(t, v)
	if err != nil {
		return Value{}, inputErrorf("%s: %s", eventType, err.Error())
	}
	return val, nil
}

func parseAny(t ValueType, v any) (Value, error) {
	switch t {
	case TypeInteger:
		n, err := toInt(v)
		if err != nil {
			n, err = truncNumber(v)
		}
		if err != nil {
			return Value{}, fmt.Errorf("value must be an integer")
		}
		return Value{Type: t, Int: n}, nil
	case TypeFloat:
		f, err := toFloat(v)
		if err != nil {
			return Value{}, fmt.Errorf("value must be a number")
		}
		return Value{Type: t, Float: f}, nil
	case TypePercentage:
		return parsePercentage(v)
	case TypeHistogram:
		return parseHistogram(v)
	case TypeSubintervals:
		if err := checkSubintervals(v); err != nil {
			return Value{}, err
		}
	case TypePacketTrace:
		if err := checkPacketTrace(v); err != nil {
			return Value{}, err
		}
	case TypeJSON:
		if v == nil {
			return Value{}, fmt.Errorf("value must be a JSON object, not null")
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return Value{}, fmt.Errorf("value must be valid JSON")
	}
	return Value{Type: t, JSON: b}, nil
}

func parsePercentage(v any) (Value, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Value{}, fmt.Errorf("value must be an object with numerator and denominator")
	}
	rn, ok1 := m["numerator"]
	rd, ok2 := m["denominator"]
	if !ok1 {
		return Value{}, fmt.Errorf("missing required field 'numerator'")
	}
	if !ok2 {
		return Value{}, fmt.Errorf("missing required field 'denominator'")
	}
	n, err := toInt(rn)
	if err != nil {
		return Value{}, fmt.Errorf("the field 'numerator' must be an integer")
	}
	d, err := toInt(rd)
	if err != nil {
		return Value{}, fmt.Errorf("the field 'denominator' must be an integer")
	}
	if d <= 0 {
		return Value{}, fmt.Errorf("the field 'denominator' must be greater than 0")
	}
	if n < 0 {
		return Value{}, fmt.Errorf("the field 'numerator' cannot be negative")
	}
	return Value{Type: TypePercentage, Num: n, Den: d}, nil
}

func parseHistogram(v any) (Value, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Value{}, fmt.Errorf("value must be an object of bucket to count")
	}
	if len(m) > MaxHistogramBuckets {
		return Value{}, fmt.Errorf("histogram has more than %d buckets", MaxHistogramBuckets)
	}
	h := make(map[string]int64, len(m))
	for k, c := range m {
		if k == "" {
			return Value{}, fmt.Errorf("histogram bucket names must not be empty")
		}
		n, err := toInt(c)
		if err != nil || n < 0 {
			return Value{}, fmt.Errorf("histogram count of bucket %q must be a non-negative integer", k)
		}
		h[k] = n
	}
	return Value{Type: TypeHistogram, Hist: h}, nil
}

func checkSubintervals(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("value must be a list of subintervals")
	}
	if len(list) == 0 { // esmond's SubintervalValidator refuses it too
		return fmt.Errorf("empty subinterval list")
	}
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("subinterval %d must be an object", i)
		}
		for _, f := range []string{"start", "duration", "val"} {
			x, ok := m[f]
			if !ok {
				return fmt.Errorf("subinterval %d: missing field %q", i, f)
			}
			if _, err := toFloat(x); err != nil {
				return fmt.Errorf("subinterval %d: field %q must be a number", i, f)
			}
		}
	}
	return nil
}

func checkPacketTrace(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("value must be a list of probes")
	}
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("probe %d must be an object", i)
		}
		ttl, ok := m["ttl"]
		if !ok {
			return fmt.Errorf("probe %d: missing field \"ttl\"", i)
		}
		if n, err := toInt(ttl); err != nil || n < 0 || n > 255 {
			return fmt.Errorf("probe %d: ttl must be an integer from 0 to 255", i)
		}
		for _, f := range []string{"rtt", "mtu", "query"} {
			if x, ok := m[f]; ok && x != nil {
				if _, err := toFloat(x); err != nil {
					return fmt.Errorf("probe %d: field %q must be a number or null", i, f)
				}
			}
		}
		if x, ok := m["ip"]; ok && x != nil {
			if _, ok := x.(string); !ok {
				return fmt.Errorf("probe %d: field \"ip\" must be a string or null", i)
			}
		}
	}
	return nil
}

// toInt accepts an integral JSON number or a string holding one.
func toInt(v any) (int64, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("not an integer")
		}
		return int64(x), nil
	default:
		return 0, fmt.Errorf("not an integer")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not an integer")
	}
	return int64(f), nil
}

// truncNumber accepts a finite JSON number (not a string) within int64 and
// drops its fraction, as esmond's int(value) does for an integer event type:
// pScheduler posts iperf3's throughput-bits, a float, as throughput.
func truncNumber(v any) (int64, error) {
	if _, ok := v.(string); ok {
		return 0, fmt.Errorf("not an integer")
	}
	f, err := toFloat(v)
	if err != nil || math.Abs(f) >= 1<<63 {
		return 0, fmt.Errorf("not an integer")
	}
	return int64(math.Trunc(f)), nil
}

// toFloat accepts a finite JSON number or a string holding one.
func toFloat(v any) (float64, error) {
	var f float64
	var err error
	switch x := v.(type) {
	case json.Number:
		f, err = strconv.ParseFloat(string(x), 64)
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
	case float64:
		f = x
	default:
		return 0, fmt.Errorf("not a number")
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("not a number")
	}
	return f, nil
}

// Numeric reports whether values of this type are numbers, whose points
// answer ErrExists when one already stands at the same ts.
func (t ValueType) Numeric() bool {
	return t == TypeInteger || t == TypeFloat || t == TypePercentage
}

// MarshalJSON writes the value as esmond's readers get it: integers and
// floats as JSON floats (100.0), a percentage as the float
// numerator/denominator, a histogram as bucket → integer count, the rest
// as stored.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.Type {
	case TypeInteger:
		return appendFloat(nil, float64(v.Int)), nil
	case TypeFloat:
		return appendFloat(nil, v.Float), nil
	case TypePercentage:
		return appendFloat(nil, float64(v.Num)/float64(v.Den)), nil
	case TypeHistogram:
		return json.Marshal(v.Hist)
	}
	if len(v.JSON) == 0 {
		return []byte("null"), nil
	}
	return v.JSON, nil
}

// storage returns the stored form: canonical JSON that decodeStored reads.
func (v Value) storage() string {
	switch v.Type {
	case TypeInteger:
		return strconv.FormatInt(v.Int, 10)
	case TypeFloat:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case TypePercentage:
		return `{"numerator":` + strconv.FormatInt(v.Num, 10) + `,"denominator":` + strconv.FormatInt(v.Den, 10) + `}`
	case TypeHistogram:
		b, _ := json.Marshal(v.Hist)
		return string(b)
	}
	return string(v.JSON)
}

// decodeStored reverses storage.
func decodeStored(t ValueType, s string) (Value, error) {
	switch t {
	case TypeInteger:
		n, err := strconv.ParseInt(s, 10, 64)
		return Value{Type: t, Int: n}, err
	case TypeFloat:
		f, err := strconv.ParseFloat(s, 64)
		return Value{Type: t, Float: f}, err
	case TypePercentage:
		var p struct{ Numerator, Denominator int64 }
		err := json.Unmarshal([]byte(s), &p)
		return Value{Type: t, Num: p.Numerator, Den: p.Denominator}, err
	case TypeHistogram:
		var h map[string]int64
		err := json.Unmarshal([]byte(s), &h)
		return Value{Type: t, Hist: h}, err
	}
	return Value{Type: t, JSON: json.RawMessage(s)}, nil
}

// appendFloat writes f as a JSON number that always reads as a float in
// Python (a decimal point or exponent), as esmond's readers expect.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	start := len(b)
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
	} else {
		b = strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	if !bytes.ContainsAny(b[start:], ".eE") {
		b = append(b, ".0"...)
	}
	return b
}
