package api

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/pingapi/pingapi/pkg/monitor"
)

// recordAttrs returns the members of a host record, in output order.
func recordAttrs() [16]string {
	return [16]string{"name", "validity", "status", "xmit-timestamp", "start-timestamp",
		"stop-timestamp", "xmit", "recv", "loss", "tmin", "tmax", "avg", "stddev", "jitter", "dup", "alive"}
}

// attrSet selects record members: bit i for recordAttrs()[i].
type attrSet uint32

const allAttrs attrSet = 1<<16 - 1

// invalidAttrs are the members of a record whose validity is false
// (Ping903: only these are warranted).
const invalidAttrs attrSet = 1<<0 | 1<<1 | 1<<2 | 1<<3

// parseAttrs parses the attr query parameter: a comma-separated list of
// member names. Empty: all. It returns the first unknown name.
func parseAttrs(s string) (attrSet, string) {
	if s == "" {
		return allAttrs, ""
	}
	var set attrSet
	for a := range strings.SplitSeq(s, ",") {
		a = strings.TrimSpace(a)
		i := -1
		for j, n := range recordAttrs() {
			if n == a {
				i = j
			}
		}
		if i < 0 {
			return 0, a
		}
		set |= 1 << i
	}
	return set, ""
}

// appendRecord appends r as a JSON object with the members of set (only the
// four warranted ones when r is not valid).
func appendRecord(b []byte, r *monitor.Record, set attrSet) []byte {
	if !r.Validity {
		set &= invalidAttrs
	}
	b = append(b, '{')
	first := true
	for i, name := range recordAttrs() {
		if set&(1<<i) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		switch i {
		case 0:
			b = appendString(b, r.Name)
		case 1:
			b = strconv.AppendBool(b, r.Validity)
		case 2:
			b = appendString(b, string(r.Status))
		case 3:
			b = appendFloat(b, r.XmitTimestamp)
		case 4:
			b = appendFloat(b, r.StartTimestamp)
		case 5:
			b = appendFloat(b, r.StopTimestamp)
		case 6:
			b = strconv.AppendInt(b, int64(r.Xmit), 10)
		case 7:
			b = strconv.AppendInt(b, int64(r.Recv), 10)
		case 8:
			b = appendFloat(b, r.Loss)
		case 9:
			b = appendFloat(b, r.TMin)
		case 10:
			b = appendFloat(b, r.TMax)
		case 11:
			b = appendFloat(b, r.Avg)
		case 12:
			b = appendFloat(b, r.StdDev)
		case 13:
			b = appendFloat(b, r.Jitter)
		case 14:
			b = strconv.AppendInt(b, int64(r.Dup), 10)
		case 15:
			b = strconv.AppendBool(b, r.Alive)
		}
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. Names are validated hostnames
// or addresses, so the fast path is the rule; anything else goes through
// encoding/json.
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

// appendFloat writes f with at most three decimals (milliseconds of a
// timestamp, microseconds of an RTT), as JSON.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, math.Round(f*1000)/1000, 'f', -1, 64)
}

// attrNames returns recordAttrs as a slice, for messages.
func attrNames() []string { a := recordAttrs(); return a[:] }
