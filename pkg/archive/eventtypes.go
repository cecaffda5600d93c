package archive

import "slices"

// ValueType is the type of the values of an event type, as esmond names it.
type ValueType string

// Value types. Each event type has exactly one.
const (
	TypeInteger      ValueType = "integer"      // a whole number (may be posted as a JSON string)
	TypeFloat        ValueType = "float"        // a number (may be posted as a JSON string)
	TypePercentage   ValueType = "percentage"   // {"numerator": n, "denominator": d}, d > 0, n ≥ 0
	TypeHistogram    ValueType = "histogram"    // {"bucket": count}, counts non-negative integers
	TypeJSON         ValueType = "json"         // any JSON object (failures: {"error": "..."})
	TypeSubintervals ValueType = "subintervals" // [{"start", "duration", "val"}]
	TypePacketTrace  ValueType = "packet-trace" // [{"ttl", "query", "ip", "rtt", "mtu", "success", "error_message"}]
)

// Summary types, as they appear in JSON ("summary-type"). The URI segment
// is the plural (SummaryURIName).
const (
	SummaryBase        = "base"
	SummaryAggregation = "aggregation"
	SummaryAverage     = "average"
	SummaryStatistics  = "statistics"
)

// eventTypes is esmond's list of event types (the seed's "Full List of
// Event Types", with the value types of esmond's EVENT_TYPE_CONFIG).
var eventTypes = map[string]ValueType{
	"failures":                                TypeJSON,
	"histogram-owdelay":                       TypeHistogram,
	"histogram-rtt":                           TypeHistogram,
	"histogram-ttl":                           TypeHistogram,
	"histogram-ttl-reverse":                   TypeHistogram,
	"ntp-delay":                               TypeFloat,
	"ntp-dispersion":                          TypeFloat,
	"ntp-jitter":                              TypeFloat,
	"ntp-offset":                              TypeFloat,
	"ntp-polling-interval":                    TypeFloat,
	"ntp-reach":                               TypeInteger,
	"ntp-stratum":                             TypeInteger,
	"ntp-wander":                              TypeFloat,
	"packet-duplicates":                       TypeInteger,
	"packet-duplicates-bidir":                 TypeInteger,
	"packet-loss-rate":                        TypePercentage,
	"packet-loss-rate-bidir":                  TypePercentage,
	"packet-trace":                            TypePacketTrace,
	"packet-count-lost":                       TypeInteger,
	"packet-count-lost-bidir":                 TypeInteger,
	"packet-count-sent":                       TypeInteger,
	"packet-reorders":                         TypeInteger,
	"packet-reorders-bidir":                   TypeInteger,
	"packet-retransmits":                      TypeInteger,
	"packet-retransmits-subintervals":         TypeSubintervals,
	"path-mtu":                                TypeInteger,
	"streams-packet-retransmits":              TypeJSON,
	"streams-packet-retransmits-subintervals": TypeJSON,
	"streams-throughput":                      TypeJSON,
	"streams-throughput-subintervals":         TypeJSON,
	"throughput":                              TypeInteger,
	"throughput-subintervals":                 TypeSubintervals,
	"time-error-estimates":                    TypeFloat,

	// The rest of esmond's EVENT_TYPE_CONFIG: not in the seed's list, but
	// pScheduler's esmond archiver registers them (pscheduler-raw with
	// every test, packet-rtt and tcp-windowsize with throughput), and a
	// registration naming an unknown one is refused whole.
	"iostat":                              TypeJSON,
	"mpstat":                              TypeJSON,
	"packet-rtt":                          TypeInteger,
	"packet-rtt-subintervals":             TypeSubintervals,
	"packet-trace-multi":                  TypeJSON,
	"pscheduler-raw":                      TypeJSON,
	"pscheduler-run-href":                 TypeJSON,
	"rusage":                              TypeJSON,
	"streams-packet-rtt":                  TypeJSON,
	"streams-packet-rtt-subintervals":     TypeJSON,
	"streams-tcp-windowsize":              TypeJSON,
	"streams-tcp-windowsize-subintervals": TypeJSON,
	"streams-tcpinfo":                     TypeJSON,
	"tcp-windowsize":                      TypeInteger,
	"tcp-windowsize-subintervals":         TypeSubintervals,
	"tcpinfo":                             TypeJSON,

	// pingapi's own: the kernel's smoothed TCP RTT (TCP_INFO tcpi_rtt) read
	// at each TCP echo (pkg/tcpecho), beside its application RTT in
	// histogram-rtt.
	"histogram-rtt-kernel": TypeHistogram,
}

// allowedSummaries lists the summary types each value type supports
// (esmond's ALLOWED_SUMMARIES).
var allowedSummaries = map[ValueType][]string{
	TypeInteger:    {SummaryAggregation, SummaryAverage},
	TypeFloat:      {SummaryAggregation, SummaryAverage},
	TypePercentage: {SummaryAggregation},
	TypeHistogram:  {SummaryAggregation, SummaryStatistics},
}

// EventTypeOf returns the value type of an esmond event type; ok is false
// for a name esmond does not know.
func EventTypeOf(name string) (t ValueType, ok bool) {
	t, ok = eventTypes[name]
	return t, ok
}

// EventTypes returns every known event type name, sorted.
func EventTypes() []string {
	out := make([]string, 0, len(eventTypes))
	for k := range eventTypes {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// SummaryAllowed reports whether summaryType ("aggregation", "average",
// "statistics") can be computed for eventType.
func SummaryAllowed(eventType, summaryType string) bool {
	t, ok := eventTypes[eventType]
	return ok && slices.Contains(allowedSummaries[t], summaryType)
}

// SummaryURIName returns the URI segment of a summary type ("aggregations",
// "averages", "statistics", "base"); SummaryTypeOfURI is its inverse.
func SummaryURIName(summaryType string) string {
	switch summaryType {
	case SummaryAggregation:
		return "aggregations"
	case SummaryAverage:
		return "averages"
	}
	return summaryType
}

// SummaryTypeOfURI maps a URI segment ("aggregations", "averages",
// "statistics", "base") to its summary type; ok is false otherwise.
func SummaryTypeOfURI(seg string) (summaryType string, ok bool) {
	switch seg {
	case "aggregations":
		return SummaryAggregation, true
	case "averages":
		return SummaryAverage, true
	case "statistics":
		return SummaryStatistics, true
	case "base":
		return SummaryBase, true
	}
	return "", false
}
