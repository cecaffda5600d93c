package archive

import (
	"cmp"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/stats"
)

// Lost marks a request without a reply in Measurement.RTTs.
const Lost time.Duration = -1

// Measurement is one pingapi measurement as the archive keeps it: one row,
// whatever the number of event types derived from it. RTTs are kept to the
// microsecond, so every summary computed from them is exact at that
// resolution.
type Measurement struct {
	Time   time.Time  // start of the measurement; stored to the millisecond
	Agent  netip.Addr // measurement-agent and source: the address probed from
	Target string     // the target as given (input-destination)
	Addr   netip.Addr // the address probed (destination)
	Tool   string     // ToolPing or ToolMonitor

	// Series parameters (metadata): 0 leaves one out.
	PacketSize int           // ICMP payload bytes (ip-packet-size)
	Interval   time.Duration // between requests (time-probe-interval)
	SampleSize int           // requests per measurement (sample-size)

	// Error, when not empty, says why the measurement could not run: it is
	// an esmond "failures" point ({"error": Error}) and Sent is usually 0.
	Error string

	Sent       int
	Duplicates int
	Late       int
	Reorders   int // replies that arrived before the reply to an earlier request
	// RTTs has one entry per request sent, in sequence order: the RTT
	// (rounded to the microsecond) or Lost.
	RTTs []time.Duration
	// TTLs are the TTL / hop limit of each received reply, in sequence order.
	TTLs []uint8
}

// Received is the number of requests answered.
func (m *Measurement) Received() int {
	n := 0
	for _, r := range m.RTTs {
		if r >= 0 {
			n++
		}
	}
	return n
}

// Replies returns the RTTs of the received replies in sequence order.
func (m *Measurement) Replies() []time.Duration {
	out := make([]time.Duration, 0, len(m.RTTs))
	for _, r := range m.RTTs {
		if r >= 0 {
			out = append(out, r)
		}
	}
	return out
}

// Summary is the measurement's summary through the project's one summary
// function, stats.Summarize.
func (m *Measurement) Summary() stats.Summary {
	return stats.Summarize(m.Sent, m.Replies(), m.Duplicates)
}

// FromResult turns a probe result into a Measurement. target is the target
// as the caller gave it; tool ToolPing or ToolMonitor; agent the
// measurement-agent; req the request (for the series parameters: a zero
// field is the value the probe used, probe's default).
func FromResult(res probe.Result, target, tool string, agent netip.Addr, req probe.Request) Measurement {
	m := Measurement{
		Time: res.Started, Agent: agent, Target: target, Addr: res.Target, Tool: tool,
		Sent: res.Sent, Duplicates: res.Duplicates, Late: res.Late,
		PacketSize: cmp.Or(req.Size, probe.DefaultSize),
		Interval:   cmp.Or(req.Interval, probe.DefaultInterval),
		SampleSize: cmp.Or(req.Count, probe.DefaultCount),
	}
	if !m.Addr.IsValid() {
		m.Addr = req.Target
	}
	m.RTTs = make([]time.Duration, res.Sent)
	type arrival struct {
		seq int
		at  time.Time
	}
	var arrivals []arrival
	for i := range m.RTTs {
		m.RTTs[i] = Lost
		if i < len(res.Packets) && res.Packets[i].Received {
			p := res.Packets[i]
			m.RTTs[i] = max(p.RTT.Round(time.Microsecond), 0)
			m.TTLs = append(m.TTLs, uint8(min(max(p.TTL, 0), 255)))
			arrivals = append(arrivals, arrival{i, p.SentAt.Add(p.RTT)})
		}
	}
	// A reply is reordered when it arrives before the reply to an earlier
	// request (RFC 4737's reordered packet, counted at the sender).
	slices.SortStableFunc(arrivals, func(a, b arrival) int { return a.at.Compare(b.at) })
	maxSeq := -1
	for _, a := range arrivals {
		if a.seq < maxSeq {
			m.Reorders++
		}
		maxSeq = max(maxSeq, a.seq)
	}
	return m
}

// Row encoding (one BLOB per measurement), all integers unsigned varints:
//
//	sent
//	per request: 0 = lost, else zigzag(rtt_µs − previous received rtt_µs) + 1
//	             (the first received is relative to 0)
//	flags byte: bits 0-1 TTLs (0 none, ttlOne: one byte shared by every
//	            reply follows, ttlEach: one byte per reply follows),
//	            hasCounters, hasError
//	[TTL byte(s)]
//	[duplicates, late, reorders]  when hasCounters
//	[len, error text]             when hasError
const maxRowPackets = probe.MaxCount

const (
	ttlOne      byte = 1
	ttlEach     byte = 2
	ttlMask     byte = 3
	hasCounters byte = 4
	hasError    byte = 8
)

var errBadRow = errors.New("archive: corrupt measurement row")

func encodeRow(buf []byte, m *Measurement) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(m.RTTs)))
	var prev int64
	for _, r := range m.RTTs {
		if r < 0 {
			buf = append(buf, 0)
			continue
		}
		us := min(int64(r/time.Microsecond), int64(time.Hour/time.Microsecond))
		d := us - prev
		prev = us
		buf = binary.AppendUvarint(buf, uint64(d<<1^d>>63)+1)
	}
	var flags byte
	switch {
	case len(m.TTLs) == 0:
	case allSame(m.TTLs):
		flags = ttlOne
	default:
		flags = ttlEach
	}
	counters := m.Duplicates != 0 || m.Late != 0 || m.Reorders != 0
	if counters {
		flags |= hasCounters
	}
	if m.Error != "" {
		flags |= hasError
	}
	buf = append(buf, flags)
	switch flags & ttlMask {
	case ttlOne:
		buf = append(buf, m.TTLs[0])
	case ttlEach:
		buf = append(buf, m.TTLs...)
	}
	if counters {
		buf = binary.AppendUvarint(buf, uint64(max(m.Duplicates, 0)))
		buf = binary.AppendUvarint(buf, uint64(max(m.Late, 0)))
		buf = binary.AppendUvarint(buf, uint64(max(m.Reorders, 0)))
	}
	if m.Error != "" {
		buf = binary.AppendUvarint(buf, uint64(len(m.Error)))
		buf = append(buf, m.Error...)
	}
	return buf
}

func allSame(b []uint8) bool {
	for _, x := range b[1:] {
		if x != b[0] {
			return false
		}
	}
	return true
}

// decodeRow fills the counters, RTTs and TTLs of m from b. It reuses
// m.RTTs' array when it is large enough: callers that keep m clone it.
func decodeRow(b []byte, m *Measurement) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxRowPackets {
		return errBadRow
	}
	b = b[k:]
	m.Sent = int(n)
	if m.RTTs != nil && uint64(cap(m.RTTs)) >= n { // reuse the caller's buffer (scanRows)
		m.RTTs = m.RTTs[:n]
	} else {
		m.RTTs = make([]time.Duration, n)
	}
	var prev int64
	recv := 0
	for i := range m.RTTs {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return errBadRow
		}
		b = b[k:]
		if v == 0 {
			m.RTTs[i] = Lost
			continue
		}
		z := v - 1
		prev += int64(z>>1) ^ -int64(z&1)
		if prev < 0 || prev > int64(time.Hour/time.Microsecond) {
			return errBadRow
		}
		m.RTTs[i] = time.Duration(prev) * time.Microsecond
		recv++
	}
	if len(b) == 0 {
		return errBadRow
	}
	flags := b[0]
	b = b[1:]
	m.TTLs = nil
	switch flags & ttlMask {
	case 0:
	case ttlOne:
		if len(b) < 1 {
			return errBadRow
		}
		m.TTLs = make([]uint8, recv)[:recv]
		for i := range m.TTLs {
			m.TTLs[i] = b[0]
		}
		b = b[1:]
	case ttlEach:
		if len(b) < recv {
			return errBadRow
		}
		m.TTLs = slices.Clone(b[:recv])
		b = b[recv:]
	default:
		return errBadRow
	}
	m.Duplicates, m.Late, m.Reorders, m.Error = 0, 0, 0, ""
	if flags&hasCounters != 0 {
		var vals [3]uint64
		for i := range vals {
			v, k := binary.Uvarint(b)
			if k <= 0 || v > 1<<40 {
				return errBadRow
			}
			vals[i], b = v, b[k:]
		}
		m.Duplicates, m.Late, m.Reorders = int(vals[0]), int(vals[1]), int(vals[2])
	}
	if flags&hasError != 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return errBadRow
		}
		m.Error = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) != 0 {
		return errBadRow
	}
	return nil
}

// series returns the metadata record of m's series: one per (agent,
// target, address, tool, parameters).
func (m *Measurement) series() Metadata {
	agent := m.Agent.WithZone("").String()
	md := Metadata{
		SubjectType: SubjectPointToPoint, Source: agent, MeasurementAgent: agent,
		Destination: m.Addr.WithZone("").String(), InputSource: agent, InputDestination: m.Target,
		ToolName: cmp.Or(m.Tool, ToolPing), Derived: true,
		Parameters: map[string]string{"ip-transport-protocol": "icmp"},
		EventTypes: pingEventTypes(),
	}
	if m.PacketSize > 0 {
		md.Parameters["ip-packet-size"] = itoa(int64(m.PacketSize))
	}
	if m.Interval > 0 {
		md.Parameters["time-probe-interval"] = string(appendFloat(nil, m.Interval.Seconds()))
	}
	if m.SampleSize > 0 {
		md.Parameters["sample-size"] = itoa(int64(m.SampleSize))
	}
	_ = md.Normalize()
	md.Key = KeyOf(&md)
	return md
}

// PingEventTypes returns the event types, with their summaries, of
// pingapi's ICMP series, for other producers whose records must read the
// same (TCP echo). The slice is new on each call.
func PingEventTypes() []EventType { return pingEventTypes() }

// pingEventTypes are the event types pScheduler's ping test registers.
func pingEventTypes() []EventType {
	return []EventType{
		{Name: "failures"},
		{Name: "histogram-rtt", Summaries: []Summary{
			{Type: SummaryAggregation, Window: 3600}, {Type: SummaryAggregation, Window: 86400},
			{Type: SummaryStatistics, Window: 0}, {Type: SummaryStatistics, Window: 3600}, {Type: SummaryStatistics, Window: 86400},
		}},
		{Name: "histogram-ttl-reverse", Summaries: []Summary{{Type: SummaryStatistics, Window: 0}}},
		{Name: "packet-count-lost-bidir"},
		{Name: "packet-count-sent"},
		{Name: "packet-duplicates-bidir"},
		{Name: "packet-loss-rate-bidir", Summaries: []Summary{
			{Type: SummaryAggregation, Window: 3600}, {Type: SummaryAggregation, Window: 86400},
		}},
		{Name: "packet-reorders-bidir"},
	}
}
