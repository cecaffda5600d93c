package api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Query parameters of the esmond read routes with a meaning of their own
// (esmond's RESERVED_GET_PARAMS and its named filters). Any other
// parameter of a metadata search is a free-form filter on a metadata
// parameter of that name.
const (
	qFormat           = "format"
	qLimit            = "limit"
	qOffset           = "offset"
	qDNSMatchRule     = "dns-match-rule"
	qTime             = "time"
	qTimeStart        = "time-start"
	qTimeEnd          = "time-end"
	qTimeRange        = "time-range"
	qSubjectType      = "subject-type"
	qMetadataKey      = "metadata-key"
	qEventType        = "event-type"
	qSummaryType      = "summary-type"
	qSummaryWindow    = "summary-window"
	qSource           = "source"
	qDestination      = "destination"
	qMeasurementAgent = "measurement-agent"
	qInputSource      = "input-source"
	qInputDestination = "input-destination"
	qToolName         = "tool-name"
)

// Paging of every esmond list (esmond's PSPaginator).
const (
	EsmondDefaultLimit = 1500   // page size when the request has no limit (or limit=0)
	EsmondMaxLimit     = 100000 // larger limits are lowered to this
	// esmondMaxFreeForm bounds the free-form filters of one search, each of
	// which is a join in the store.
	esmondMaxFreeForm = 16
	// esmondMaxTime is the largest timestamp accepted (9999-12-31T23:59:59Z),
	// so that time-start + time-range cannot overflow.
	esmondMaxTime = 253402300799
)

// esmondTime is a parsed time filter (esmond's handle_time_filters): the
// inclusive range [Begin, End] of Unix seconds, End absent when Open.
// Set is false when the request has no time filter at all.
type esmondTime struct {
	Set   bool
	Begin int64
	End   int64
	Open  bool // no upper bound
}

// esmondPage is a validated limit/offset pair.
type esmondPage struct {
	Limit  int
	Offset int
}

// dnsMatchRule says which address families a host name in a source,
// destination or measurement-agent filter is resolved to (esmond's
// dns-match-rule).
type dnsMatchRule string

const (
	dnsV4V6     dnsMatchRule = "v4v6" // default: the A and the AAAA address
	dnsOnlyV4   dnsMatchRule = "only-v4"
	dnsOnlyV6   dnsMatchRule = "only-v6"
	dnsPreferV4 dnsMatchRule = "prefer-v4" // A, or AAAA when there is no A
	dnsPreferV6 dnsMatchRule = "prefer-v6" // AAAA, or A when there is no AAAA
)

// dnsMatchRules lists the accepted values; "v4-only" and "v6-only" are the
// spellings of esmond's own documentation (the seed's example), accepted
// as aliases of only-v4 and only-v6.
func dnsMatchRules() map[string]dnsMatchRule {
	return map[string]dnsMatchRule{
		"v4v6": dnsV4V6, "only-v4": dnsOnlyV4, "only-v6": dnsOnlyV6,
		"prefer-v4": dnsPreferV4, "prefer-v6": dnsPreferV6,
		"v4-only": dnsOnlyV4, "v6-only": dnsOnlyV6,
	}
}

// esmondSearch is a parsed metadata search: the filters as given, before
// host names are resolved.
type esmondSearch struct {
	Time  esmondTime
	Page  esmondPage
	Rule  dnsMatchRule
	Hosts map[string]string // source, destination, measurement-agent: an address or a host name
	Exact map[string]string // subject-type, metadata-key, input-*, tool-name, event-type, summary-type, summary-window
	// Params are the free-form filters: metadata parameter name → value,
	// compared as strings.
	Params map[string]string
}

// esmondSummaryTypes are the summary types of the JSON documents (the URL
// spells them in the plural: see summaryTypeOfPath).
func esmondSummaryTypes() []string { return []string{"base", "aggregation", "average", "statistics"} }

// last returns the last value of a repeated parameter, as Django's
// QueryDict.get does, and whether the parameter is present.
func last(q url.Values, name string) (string, bool) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// parseEsmondFormat accepts format=json (esmond's clients add it) and
// nothing else.
func parseEsmondFormat(q url.Values) error {
	if v, ok := last(q, qFormat); ok && v != "json" {
		return badRequest("format must be json, got \"" + clip(v, 32) + "\"")
	}
	return nil
}

// parseEsmondPage validates limit and offset: non-negative integers; a
// missing or zero limit is EsmondDefaultLimit, one above EsmondMaxLimit is
// lowered to it.
func parseEsmondPage(q url.Values) (esmondPage, error) {
	p := esmondPage{Limit: EsmondDefaultLimit}
	if v, ok := last(q, qLimit); ok {
		n, err := nonNegative(qLimit, v, 1<<31-1)
		if err != nil {
			return p, err
		}
		switch {
		case n > EsmondMaxLimit:
			p.Limit = EsmondMaxLimit
		case n > 0:
			p.Limit = n
		}
	}
	if v, ok := last(q, qOffset); ok {
		n, err := nonNegative(qOffset, v, 1<<31-1)
		if err != nil {
			return p, err
		}
		p.Offset = n
	}
	return p, nil
}

// nonNegative parses a decimal integer in [0, max].
func nonNegative(name, v string, max int64) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > max {
		return 0, badRequest(name + " must be a non-negative integer, got \"" + clip(v, 32) + "\"")
	}
	return int(n), nil
}

// parseUnix parses a timestamp filter: an integer number of seconds in
// [0, esmondMaxTime].
func parseUnix(name, v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > esmondMaxTime {
		return 0, badRequest(name + " must be a Unix timestamp in whole seconds, got \"" + clip(v, 32) + "\"")
	}
	return n, nil
}

// parseEsmondTime applies esmond's time filters (handle_time_filters):
//
//	time                  exactly that second
//	time-start, time-end  [start, end]
//	time-start, range     [start, start+range]
//	time-end, range       [end-range, end]
//	time-start            [start, now and later)
//	time-end              [0, end]
//	time-range            [now-range, now and later)
//
// time wins over the others, and time-range is ignored when both ends are
// given. A start after the end is an error.
func parseEsmondTime(q url.Values, now time.Time) (esmondTime, error) {
	get := func(name string) (int64, bool, error) {
		v, ok := last(q, name)
		if !ok {
			return 0, false, nil
		}
		n, err := parseUnix(name, v)
		return n, true, err
	}
	at, hasAt, err := get(qTime)
	if err != nil {
		return esmondTime{}, err
	}
	start, hasStart, err := get(qTimeStart)
	if err != nil {
		return esmondTime{}, err
	}
	end, hasEnd, err := get(qTimeEnd)
	if err != nil {
		return esmondTime{}, err
	}
	rng, hasRange, err := get(qTimeRange)
	if err != nil {
		return esmondTime{}, err
	}
	t := esmondTime{Set: true}
	switch {
	case hasAt:
		t.Begin, t.End = at, at
	case hasStart && hasEnd:
		t.Begin, t.End = start, end
	case hasStart && hasRange:
		t.Begin, t.End = start, start+rng
	case hasEnd && hasRange:
		t.Begin, t.End = max(end-rng, 0), end
	case hasStart:
		t.Begin, t.Open = start, true
	case hasEnd:
		t.Begin, t.End = 0, end
	case hasRange:
		t.Begin, t.Open = max(now.Unix()-rng, 0), true
	default:
		return esmondTime{}, nil
	}
	if !t.Open && t.End < t.Begin {
		return esmondTime{}, badRequest("the requested start time must not be after the end time")
	}
	return t, nil
}

// parseSummaryWindow validates a summary window: a non-negative integer
// number of seconds, returned in its canonical decimal form.
func parseSummaryWindow(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > esmondMaxTime {
		return 0, badRequest("summary-window must be a whole number of seconds, got \"" + clip(v, 32) + "\"")
	}
	return n, nil
}

// isReservedEsmondParam reports whether a query parameter is not a
// free-form metadata filter.
func isReservedEsmondParam(name string) bool {
	switch name {
	case qFormat, qLimit, qOffset, qDNSMatchRule, qTime, qTimeStart, qTimeEnd, qTimeRange,
		qSubjectType, qMetadataKey, qEventType, qSummaryType, qSummaryWindow,
		qSource, qDestination, qMeasurementAgent, qInputSource, qInputDestination, qToolName:
		return true
	}
	// Tokens in the query string are refused by the auth layer; never
	// treat them as filters.
	return slices.Contains(queryTokenParams(), name)
}

// parseEsmondSearch validates the query string of a metadata search.
// isEventType reports whether a name is an event type the archive knows;
// nil accepts any.
func parseEsmondSearch(q url.Values, now time.Time, isEventType func(string) bool) (esmondSearch, error) {
	s := esmondSearch{Rule: dnsV4V6, Hosts: map[string]string{}, Exact: map[string]string{}, Params: map[string]string{}}
	var err error
	if err = parseEsmondFormat(q); err != nil {
		return s, err
	}
	if s.Page, err = parseEsmondPage(q); err != nil {
		return s, err
	}
	if s.Time, err = parseEsmondTime(q, now); err != nil {
		return s, err
	}
	if v, ok := last(q, qDNSMatchRule); ok {
		r, known := dnsMatchRules()[v]
		if !known {
			return s, badRequest("dns-match-rule must be one of v4v6, only-v4, only-v6, prefer-v4, prefer-v6; got \"" + clip(v, 32) + "\"")
		}
		s.Rule = r
	}
	for _, name := range []string{qSource, qDestination, qMeasurementAgent} {
		if v, ok := last(q, name); ok {
			if strings.TrimSpace(v) == "" {
				return s, badRequest(name + " must be an IP address or a host name, got an empty value")
			}
			s.Hosts[name] = strings.TrimSpace(v)
		}
	}
	for _, name := range []string{qSubjectType, qMetadataKey, qInputSource, qInputDestination, qToolName} {
		if v, ok := last(q, name); ok {
			s.Exact[name] = v
		}
	}
	if v, ok := last(q, qEventType); ok {
		if isEventType != nil && !isEventType(v) {
			return s, badRequest("event-type \"" + clip(v, 64) + "\" is not an event type of this archive")
		}
		s.Exact[qEventType] = v
	}
	if v, ok := last(q, qSummaryType); ok {
		if !slices.Contains(esmondSummaryTypes(), v) {
			return s, badRequest("summary-type must be one of " + strings.Join(esmondSummaryTypes(), ", ") + "; got \"" + clip(v, 32) + "\"")
		}
		s.Exact[qSummaryType] = v
	}
	if v, ok := last(q, qSummaryWindow); ok {
		w, err := parseSummaryWindow(v)
		if err != nil {
			return s, err
		}
		s.Exact[qSummaryWindow] = strconv.FormatInt(w, 10)
	}
	for name := range q {
		if isReservedEsmondParam(name) {
			continue
		}
		if name == "" {
			return s, badRequest("a query parameter has an empty name")
		}
		if len(s.Params) == esmondMaxFreeForm {
			return s, badRequest("at most " + strconv.Itoa(esmondMaxFreeForm) + " free-form filters may be combined")
		}
		v, _ := last(q, name)
		s.Params[name] = v
	}
	return s, nil
}

// esmondDataQuery is a parsed query string of a base or summary data read.
type esmondDataQuery struct {
	Time esmondTime
	Page esmondPage
}

// parseEsmondData validates the query string of a data read: format, time
// filters, limit and offset. Other parameters are ignored, as esmond does.
func parseEsmondData(q url.Values, now time.Time) (esmondDataQuery, error) {
	var d esmondDataQuery
	var err error
	if err = parseEsmondFormat(q); err != nil {
		return d, err
	}
	if d.Page, err = parseEsmondPage(q); err != nil {
		return d, err
	}
	d.Time, err = parseEsmondTime(q, now)
	return d, err
}
