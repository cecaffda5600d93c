package wire

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Status is the state of a host record, Ping903's four states under plain
// names.
type Status string

// Host record states.
const (
	// StatusInit: no probe has finished yet, data are being collected
	// (validity false).
	StatusInit Status = "init"
	// StatusValid: the statistics of the last probe are available
	// (validity true).
	StatusValid Status = "valid"
	// StatusProbing: valid statistics of the last probe are available and
	// the host is being probed again at this moment (validity true).
	StatusProbing Status = "probing"
	// StatusUnreachable: the last probe could not be run at all (the name
	// does not resolve, or the engine refused to send, e.g. no route); no
	// statistics (validity false). A host that is probed but never answers
	// is not unreachable: it is valid, with 100 % loss and alive false.
	StatusUnreachable Status = "unreachable"
)

// Record is the public view of one monitored host, with Ping903's member
// names plus jitter, dup and error. Times are seconds since the Epoch with
// millisecond resolution; RTTs milliseconds rounded to the microsecond;
// loss percent rounded to three decimals. The producer rounds; writers
// print the values as they are.
//
// This struct is the one definition of the record: its members, their
// order and the members warranted when Validity is false (tag
// warranted:"true", Ping903's "name", "validity", "status" and
// "xmit-timestamp") are read from it by AppendRecord and ParseAttrs.
type Record struct {
	Name           string  `json:"name" warranted:"true" example:"192.0.2.1"`
	Validity       bool    `json:"validity" warranted:"true"`
	Status         Status  `json:"status" warranted:"true" enums:"init,valid,probing,unreachable"`
	XmitTimestamp  float64 `json:"xmit-timestamp" warranted:"true" example:"1584804901.404"`
	StartTimestamp float64 `json:"start-timestamp" example:"1584804892.402"`
	StopTimestamp  float64 `json:"stop-timestamp" example:"1584804902.405"`
	Xmit           int     `json:"xmit" example:"10"`
	Recv           int     `json:"recv" example:"10"`
	Loss           float64 `json:"loss" example:"0"`       // percent
	TMin           float64 `json:"tmin" example:"41.212"`  // ms
	TMax           float64 `json:"tmax" example:"41.374"`  // ms
	Avg            float64 `json:"avg" example:"41.265"`   // ms
	StdDev         float64 `json:"stddev" example:"0.046"` // ms, population (ping's mdev)
	Jitter         float64 `json:"jitter" example:"0.031"` // ms, mean |RTT[i]-RTT[i-1]|; 0 with < 2 replies
	Dup            int     `json:"dup" example:"0"`        // duplicate replies during the probe (never counted in recv)
	Alive          bool    `json:"alive"`
	// Error says why an unreachable host could not be probed, in the
	// words of ping(8) and the kernel ("Network is unreachable", "No
	// route to host", "unknown host"), so that a check can answer as
	// check_ping does; absent when there is nothing to say.
	Error string `json:"error,omitempty" warranted:"true" example:"No route to host"`
}

// ID identifies the running instance (Ping903's /id).
type ID struct {
	Package string `json:"package" example:"pingapi"`
	Version string `json:"version" example:"0.1.0"`
	PID     int    `json:"pid" example:"4242"`
}

// AttrSet selects members of a Record: bit i for its i-th field.
type AttrSet uint32

// AllAttrs selects every member.
const AllAttrs AttrSet = math.MaxUint32

// member is one field of Record as the writer sees it.
type member struct {
	name      string
	key       string // "name": ready to append
	kind      reflect.Kind
	warranted bool
	omitEmpty bool // a string member left out when empty (",omitempty")
}

// members are Record's fields in declaration order, read from its tags
// when the package is loaded; nothing writes them afterwards.
var members, warranted = recordMembers()

func recordMembers() ([]member, AttrSet) {
	t := reflect.TypeFor[Record]()
	out := make([]member, t.NumField())
	var w AttrSet
	for i := range out {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		out[i] = member{name: name, key: strconv.Quote(name) + ":", kind: f.Type.Kind(), warranted: f.Tag.Get("warranted") == "true",
			omitEmpty: opts == "omitempty" && f.Type.Kind() == reflect.String}
		if out[i].warranted {
			w |= 1 << i
		}
	}
	return out, w
}

// AttrNames returns the member names of a Record in output order.
func AttrNames() []string {
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = m.name
	}
	return out
}

// ParseAttrs parses Ping903's attr query parameter: a comma-separated list
// of member names, blanks around each ignored. Empty: all. It returns the
// first unknown name.
func ParseAttrs(s string) (AttrSet, string) {
	if s == "" {
		return AllAttrs, ""
	}
	var set AttrSet
	for a := range strings.SplitSeq(s, ",") {
		a = strings.TrimSpace(a)
		i := attrIndex(a)
		if i < 0 {
			return 0, a
		}
		set |= 1 << i
	}
	return set, ""
}

func attrIndex(name string) int {
	for i, m := range members {
		if m.name == name {
			return i
		}
	}
	return -1
}

// AppendRecord appends r as a JSON object with the members of set, in
// Record's order (only the warranted ones when r is not valid). The bytes
// are those json.Marshal gives for a struct of the selected fields, without
// its allocations: GET /host streams 100,000 of them. A NaN or infinite
// float, which json.Marshal refuses, is written as 0.
func AppendRecord(b []byte, r *Record, set AttrSet) []byte {
	if !r.Validity {
		set &= warranted
	}
	v := reflect.ValueOf(r).Elem()
	b = append(b, '{')
	first := true
	for i, m := range members {
		if set&(1<<i) == 0 || (m.omitEmpty && v.Field(i).String() == "") {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, m.key...)
		f := v.Field(i)
		switch m.kind {
		case reflect.String:
			b = appendString(b, f.String())
		case reflect.Bool:
			b = strconv.AppendBool(b, f.Bool())
		case reflect.Int:
			b = strconv.AppendInt(b, f.Int(), 10)
		case reflect.Float64:
			b = appendFloat(b, f.Float())
		default:
			q, _ := json.Marshal(f.Interface())
			b = append(b, q...)
		}
	}
	return append(b, '}')
}

// appendString appends s as encoding/json does. Names are validated
// hostnames or addresses, so the fast path is the rule; anything else goes
// through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendFloat appends f as encoding/json formats a float64: the shortest
// representation, in exponent form below 1e-6 and from 1e21 on, with a
// one-digit negative exponent written e-7, not e-07.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
