package main

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// check_ping's own readings of its arguments, as its C code does them
// (sscanf, atoi, strtol, is_host): what makes `pingapi check` accept and
// refuse exactly what check_ping does.

// getThreshold is check_ping's get_threshold: "RTA" alone (an integer),
// "RTA,PL%" (or ':'), or "PL%". Like its sscanf, it stores the RTA even when
// the rest does not match, and reads a fractional loss ("20.5%") up to the
// point: 20.
func getThreshold(arg string, rta *float32, pl *int) bool {
	if isIntNonNeg(arg) {
		if f, _, ok := scanFloat(arg); ok {
			*rta = f
			return true
		}
	}
	if strings.ContainsAny(arg, ",:") && strings.Contains(arg, "%") {
		if f, rest, ok := scanFloat(arg); ok {
			*rta = f
			if n := len(rest) - len(strings.TrimLeft(rest, ":,")); n > 0 {
				if d, _, ok := scanInt(rest[n:]); ok {
					*pl = d
					return true
				}
			}
		}
	}
	if strings.Contains(arg, "%") {
		if d, _, ok := scanInt(arg); ok {
			*pl = d
			return true
		}
	}
	return false
}

// isHost is check_ping's is_host without a resolver: an address of the
// chosen family, or a name that is a valid host name (pingapi resolves no
// name here; the monitor knows its hosts by name).
func isHost(s string, family int) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		return family == 0 || (family == 4) == a.Unmap().Is4()
	}
	if s == "" || len(s) > 253 || strings.ContainsAny(s, ":%") {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return false
		}
	}
	return true
}

// The C library's number readers, as check_ping uses them.

// isInteger is the plugins' is_integer: only digits, '-' and spaces, and
// strtol's value fits an int.
func isInteger(s string) bool {
	if strings.Trim(s, "-0123456789 ") != "" {
		return false
	}
	v, _, _ := scanLong(s)
	return v >= math.MinInt32 && v <= math.MaxInt32
}

func isIntNonNeg(s string) bool { return isInteger(s) && cAtoi(s) >= 0 }

func isIntPercent(s string) bool { return isInteger(s) && cAtoi(s) >= 0 && cAtoi(s) <= 100 }

// isNegative is is_negative: the whole string is a number (sscanf "%f%c"
// reads nothing after it) below 0.
func isNegative(s string) bool {
	f, rest, ok := scanFloat(s)
	return ok && rest == "" && f < 0
}

// cAtoi is atoi: strtol's value cast to int; 0 when nothing is read.
func cAtoi(s string) int {
	v, _, _ := scanLong(s)
	return int(int32(v))
}

func scanInt(s string) (int, string, bool) {
	v, rest, ok := scanLong(s)
	return int(int32(v)), rest, ok
}

// scanLong is strtol in base 10: leading white space, a sign, digits;
// saturated at the limits of a 64-bit long.
func scanLong(s string) (int64, string, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	i, neg := 0, false
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		neg = t[i] == '-'
		i++
	}
	start := i
	var v uint64
	for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		if v <= math.MaxInt64 {
			v = v*10 + uint64(t[i]-'0')
		}
	}
	if i == start {
		return 0, s, false
	}
	switch {
	case !neg && v > math.MaxInt64:
		return math.MaxInt64, t[i:], true
	case neg && v > math.MaxInt64:
		return math.MinInt64, t[i:], true
	case neg:
		return -int64(v), t[i:], true
	}
	return int64(v), t[i:], true
}

// scanFloat is sscanf's %f into a C float: leading white space, then the
// longest decimal number (sign, digits, point, exponent) or inf/nan,
// rounded to float32 as strtof does.
func scanFloat(s string) (float32, string, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	lower := strings.ToLower(t[i:])
	for _, word := range []string{"infinity", "inf", "nan"} {
		if strings.HasPrefix(lower, word) {
			f := float32(math.Inf(1))
			if word == "nan" {
				f = float32(math.NaN())
			}
			if t[0] == '-' {
				f = -f
			}
			return f, t[i+len(word):], true
		}
	}
	digits := 0
	for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		digits++
	}
	if i < len(t) && t[i] == '.' {
		for i++; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, s, false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		j := i + 1
		if j < len(t) && (t[j] == '+' || t[j] == '-') {
			j++
		}
		if j < len(t) && t[j] >= '0' && t[j] <= '9' {
			for i = j; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			}
		}
	}
	v, _ := strconv.ParseFloat(t[:i], 32) // out of range: ±Inf or 0, as strtof
	return float32(v), t[i:], true
}
