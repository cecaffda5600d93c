package api

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/pingapi/pingapi/pkg/archive"
)

// esmondMaxBulkPoints bounds the values of one bulk document.
const esmondMaxBulkPoints = 1_000_000

// esmondPointDoc is a data point (documentation): the body of a POST to a
// base URI, and an element of a data read (archive.Point), whose ts is
// always an integer and val the event type's value (a JSON float for the
// numeric types, a ratio for a percentage, an object for a histogram or
// statistics, a list for subintervals and packet traces).
type esmondPointDoc struct {
	TS  int64 `json:"ts" example:"1392238294" swaggertype:"integer"` // Unix seconds; a number or a numeric string
	Val any   `json:"val" swaggertype:"object"`                      // the value, of the event type's value type
}

// esmondBulkDoc is the body of a bulk PUT (documentation).
type esmondBulkDoc struct {
	Data []esmondBulkEntryDoc `json:"data"`
}

type esmondBulkEntryDoc struct {
	TS  int64                `json:"ts" example:"1397804761" swaggertype:"integer"`
	Val []esmondBulkValueDoc `json:"val"`
}

type esmondBulkValueDoc struct {
	EventType string `json:"event-type" example:"packet-count-sent"`
	Val       any    `json:"val" swaggertype:"object"`
}

// esmondValue is one decoded, not yet validated value of a write: its time,
// event type and raw JSON value.
type esmondValue struct {
	TS        int64
	EventType string
	Raw       json.RawMessage
}

// parseTS reads a point's ts as esmond's int() does: a JSON number
// (a fraction is cut off) or a string of decimal digits, in
// [0, esmondMaxTime].
func parseTS(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	bad := badRequest("ts must be a Unix timestamp (whole seconds, a number or a numeric string)")
	var n int64
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return 0, bad
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, bad
		}
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return 0, bad
		}
		n = v
	default:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || math.Abs(f) > 1e15 {
			return 0, bad
		}
		n = int64(math.Trunc(f))
	}
	if n < 0 || n > esmondMaxTime {
		return 0, bad
	}
	return n, nil
}

// decodePoint reads the body of a POST to a base URI: {"ts": ..., "val": ...}.
func decodePoint(body []byte) (ts int64, val json.RawMessage, err error) {
	var p map[string]json.RawMessage
	if err := decodeOne(body, &p); err != nil {
		return 0, nil, err
	}
	if p == nil {
		return 0, nil, badRequest(`the body must be a JSON object {"ts": ..., "val": ...}`)
	}
	rts, ok := p["ts"]
	if !ok {
		return 0, nil, badRequest("required field ts not provided in request")
	}
	if ts, err = parseTS(rts); err != nil {
		return 0, nil, err
	}
	if val, ok = p["val"]; !ok {
		return 0, nil, badRequest("required field val not provided in request")
	}
	return ts, val, nil
}

// decodeBulk reads a bulk document {"data": [{"ts": T, "val": [{"event-type":
// E, "val": V}, ...]}, ...]} into its values, in order. Event types are
// checked against esmond's list; the values themselves are validated by
// the archive (archive.ParseValue). Every error names the position of the
// offending element, counted from 1 as esmond does.
func decodeBulk(body []byte) ([]esmondValue, error) {
	var doc map[string]json.RawMessage
	if err := decodeOne(body, &doc); err != nil {
		return nil, err
	}
	rdata, ok := doc["data"]
	if doc == nil || !ok {
		return nil, badRequest("request must contain a 'data' element")
	}
	var data []json.RawMessage
	if err := json.Unmarshal(rdata, &data); err != nil || data == nil {
		return nil, badRequest("the 'data' element must be an array")
	}
	var out []esmondValue
	for i, rItem := range data {
		at := " in data list at position " + strconv.Itoa(i+1)
		var item map[string]json.RawMessage
		if err := json.Unmarshal(rItem, &item); err != nil || item == nil {
			return nil, badRequest("data element must be an object" + at)
		}
		rts, ok := item["ts"]
		if !ok {
			return nil, badRequest("missing ts field" + at)
		}
		ts, err := parseTS(rts)
		if err != nil {
			return nil, badRequest(publicError(err).Message + at)
		}
		rvals, ok := item["val"]
		if !ok {
			return nil, badRequest("missing val field" + at)
		}
		var vals []json.RawMessage
		if err := json.Unmarshal(rvals, &vals); err != nil || vals == nil {
			return nil, badRequest("'val' field must be an array" + at)
		}
		for j, rv := range vals {
			at := " at data item " + strconv.Itoa(i+1) + " in value " + strconv.Itoa(j+1)
			var v struct {
				EventType *string         `json:"event-type"`
				Val       json.RawMessage `json:"val"`
			}
			if err := json.Unmarshal(rv, &v); err != nil {
				return nil, badRequest("value must be an object {\"event-type\": ..., \"val\": ...}" + at)
			}
			if v.EventType == nil {
				return nil, badRequest("missing event-type field" + at)
			}
			if v.Val == nil {
				return nil, badRequest("missing val field" + at)
			}
			if _, ok := archive.EventTypeOf(*v.EventType); !ok {
				return nil, badRequest("invalid event type \"" + clip(*v.EventType, 64) + "\"" + at)
			}
			if len(out) == esmondMaxBulkPoints {
				return nil, badRequest("a bulk document holds at most " + strconv.Itoa(esmondMaxBulkPoints) + " values")
			}
			out = append(out, esmondValue{TS: ts, EventType: *v.EventType, Raw: v.Val})
		}
	}
	return out, nil
}
