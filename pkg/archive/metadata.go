package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
)

// esmond's subject types (esmond/api/perfsonar/types.py SUBJECT_TYPE_MAP):
// a network-element subject (pScheduler's tests without a destination)
// has no destination and no input-destination.
const (
	SubjectPointToPoint   = "point-to-point"
	SubjectNetworkElement = "network-element"
)

// Tool names of pingapi's own measurements.
const (
	ToolPing    = "pingapi/ping"    // on-demand /pingapi measurements and `pingapi measure`
	ToolMonitor = "pingapi/monitor" // the monitor's probes
)

// Metadata is one esmond measurement description. Key is assigned by the
// store (KeyOf); the rest is what the client registered.
type Metadata struct {
	Key              string // 32 lowercase hex digits
	SubjectType      string // SubjectPointToPoint or SubjectNetworkElement
	Source           string // IP address (canonical form)
	Destination      string // IP address; "" for a network-element
	MeasurementAgent string // IP address
	InputSource      string // as given to the tool
	InputDestination string
	ToolName         string
	// Parameters are the free-form fields (ip-transport-protocol,
	// time-duration, sample-size, ...), every value a string.
	Parameters map[string]string
	EventTypes []EventType
	// Derived is true for pingapi's own series: their data are derived from
	// stored measurements and clients cannot write points into them.
	Derived bool
}

// EventType is one event type of a metadata record with its summaries.
type EventType struct {
	Name        string    // e.g. "histogram-rtt"
	Summaries   []Summary // requested summaries (not including base)
	TimeUpdated int64     // unix seconds of the newest base point; 0: no data (JSON null)
}

// Summary is a summary of an event type: Type is SummaryAggregation,
// SummaryAverage or SummaryStatistics; Window in seconds, 0 = one summary
// per base point.
type Summary struct {
	Type        string
	Window      int64
	TimeUpdated int64 // unix seconds; 0: no data (JSON null)
}

// EventType returns the named event type of m.
func (m *Metadata) EventType(name string) (EventType, bool) {
	for _, e := range m.EventTypes {
		if e.Name == name {
			return e, true
		}
	}
	return EventType{}, false
}

// HasSummary reports whether m registered the summary of an event type.
func (m *Metadata) HasSummary(eventType, summaryType string, window int64) bool {
	e, ok := m.EventType(eventType)
	if !ok {
		return false
	}
	for _, s := range e.Summaries {
		if s.Type == summaryType && s.Window == window {
			return true
		}
	}
	return false
}

// Normalize validates m as a registration and puts it in canonical form:
// addresses in netip's canonical text, input-source/-destination default to
// source/destination, event types sorted and unique, summaries sorted and
// unique. Errors are *InputError.
func (m *Metadata) Normalize() error {
	if m.SubjectType == "" {
		return inputErrorf("missing required field subject-type")
	}
	addrs := []struct {
		name string
		v    *string
	}{{"source", &m.Source}, {"destination", &m.Destination}, {"measurement-agent", &m.MeasurementAgent}}
	switch m.SubjectType {
	case SubjectPointToPoint:
	case SubjectNetworkElement:
		if m.Destination != "" || m.InputDestination != "" {
			return inputErrorf("a %s subject has no destination or input-destination", SubjectNetworkElement)
		}
		addrs = slices.Delete(addrs, 1, 2)
	default:
		return inputErrorf("unsupported subject-type %q (%s or %s)", m.SubjectType, SubjectPointToPoint, SubjectNetworkElement)
	}
	for _, f := range addrs {
		if *f.v == "" {
			return inputErrorf("missing required field %s", f.name)
		}
		a, err := netip.ParseAddr(strings.TrimSpace(*f.v))
		if err != nil {
			return inputErrorf("%s must be an IP address, got %q", f.name, *f.v)
		}
		*f.v = a.WithZone("").String()
	}
	if m.ToolName == "" {
		return inputErrorf("missing required field tool-name")
	}
	if m.InputSource == "" {
		m.InputSource = m.Source
	}
	if m.InputDestination == "" { // stays "" for a network-element
		m.InputDestination = m.Destination
	}
	for k := range m.Parameters {
		if k == "" || isReservedField(k) {
			return inputErrorf("parameter name %q is not allowed", k)
		}
	}
	seen := map[string]bool{}
	out := make([]EventType, 0, len(m.EventTypes))
	for _, e := range m.EventTypes {
		if _, ok := eventTypes[e.Name]; !ok {
			return inputErrorf("unknown event-type %q", e.Name)
		}
		if seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		sums := make([]Summary, 0, len(e.Summaries))
		for _, s := range e.Summaries {
			if !SummaryAllowed(e.Name, s.Type) {
				return inputErrorf("summary-type %q is not supported for event-type %q", s.Type, e.Name)
			}
			if s.Window < 0 {
				return inputErrorf("summary-window must not be negative")
			}
			if !slices.ContainsFunc(sums, func(x Summary) bool { return x.Type == s.Type && x.Window == s.Window }) {
				sums = append(sums, Summary{Type: s.Type, Window: s.Window})
			}
		}
		slices.SortFunc(sums, func(a, b Summary) int {
			if c := strings.Compare(a.Type, b.Type); c != 0 {
				return c
			}
			return int(a.Window - b.Window)
		})
		out = append(out, EventType{Name: e.Name, Summaries: sums})
	}
	slices.SortFunc(out, func(a, b EventType) int { return strings.Compare(a.Name, b.Name) })
	m.EventTypes = out
	return nil
}

// reservedFields are metadata fields with their own meaning; they cannot be
// free-form parameters.
var reservedFields = []string{
	"subject-type", "source", "destination", "measurement-agent", "input-source",
	"input-destination", "tool-name", "event-types", "metadata-key", "uri",
	"event-type", "summary-type", "summary-window", "time", "time-start",
	"time-end", "time-range", "limit", "offset", "format", "dns-match-rule",
	"metadata-count-total", "metadata-previous-page", "metadata-next-page",
}

func isReservedField(k string) bool { return slices.Contains(reservedFields, k) }

// ReservedField reports whether name is a metadata field or query parameter
// with its own meaning (not a free-form parameter).
func ReservedField(name string) bool { return isReservedField(name) }

// KeyOf returns the metadata-key of m: 32 hex digits of SHA-256 over the
// canonical form of every registered field (call Normalize first).
// Identical metadata always gets the same key, on every instance.
func KeyOf(m *Metadata) string {
	type sum struct {
		T string `json:"t"`
		W int64  `json:"w"`
	}
	type et struct {
		N string `json:"n"`
		S []sum  `json:"s"`
	}
	c := struct {
		ST string            `json:"st"`
		S  string            `json:"s"`
		D  string            `json:"d"`
		MA string            `json:"ma"`
		IS string            `json:"is"`
		ID string            `json:"id"`
		TN string            `json:"tn"`
		P  map[string]string `json:"p"` // encoding/json sorts map keys
		E  []et              `json:"e"`
	}{m.SubjectType, m.Source, m.Destination, m.MeasurementAgent, m.InputSource, m.InputDestination, m.ToolName, m.Parameters, nil}
	for _, e := range m.EventTypes {
		x := et{N: e.Name, S: []sum{}}
		for _, s := range e.Summaries {
			x.S = append(x.S, sum{s.Type, s.Window})
		}
		c.E = append(c.E, x)
	}
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// foldedKey is esmond's metadata checksum rule (ArchiveSerializer.
// calculate_checksum): every field name and value lower-cased, so two
// registrations that differ only in letter case are the same metadata.
// Only the comparison of PutMetadata uses it: stored keys stay KeyOf.
func foldedKey(m *Metadata) string {
	f := *m
	for _, v := range []*string{&f.SubjectType, &f.Source, &f.Destination, &f.MeasurementAgent, &f.InputSource, &f.InputDestination, &f.ToolName} {
		*v = strings.ToLower(*v)
	}
	// Parameters as sorted lower-case "name::value" lines: two names that
	// differ only in case both count, as in esmond's checksum.
	lines := make([]string, 0, len(m.Parameters))
	for k, v := range m.Parameters {
		lines = append(lines, strings.ToLower(k)+"::"+strings.ToLower(v))
	}
	slices.Sort(lines)
	f.Parameters = map[string]string{"": strings.Join(lines, "\n")}
	return KeyOf(&f)
}

// ValidKey reports whether s has the form of a metadata-key (32 lowercase
// hex digits).
func ValidKey(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// DefaultLimit is the page size of a search without a limit (esmond's
// default page of 1500 metadata records / data points... see the API).
const DefaultLimit = 1500

// TimeRange selects unix seconds in [Start, End], both inclusive. A zero
// Start or End leaves that side open.
type TimeRange struct{ Start, End int64 }

func (r TimeRange) contains(ts int64) bool {
	return (r.Start == 0 || ts >= r.Start) && (r.End == 0 || ts <= r.End)
}

func (r TimeRange) isZero() bool { return r.Start == 0 && r.End == 0 }

// Filter selects metadata records (the esmond search's query parameters,
// parsed by the API). A nil address slice does not filter; a non-nil empty
// one (a name that resolved to nothing) matches nothing. Strings "" do not
// filter.
type Filter struct {
	SubjectType      string
	Source           []string // any of these addresses (the API resolves names)
	Destination      []string
	MeasurementAgent []string
	InputSource      string
	InputDestination string
	ToolName         string
	EventType        string
	SummaryType      string // "aggregation", "average", "statistics" or "base"
	SummaryWindow    *int64
	Parameters       map[string]string // free-form parameter → exact value
	Updated          TimeRange         // time-updated of an event type (that matches the event type and summary filters)
	Limit            int               // 0: DefaultLimit; negative: no limit
	Offset           int
}
