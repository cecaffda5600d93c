// Package report turns a probe.Result into the JSON document that both the
// HTTP API and `pingapi measure --json` return, so the two never drift.
// Field names and units keep those of the original pingapi (milliseconds,
// percent) and add what it lacked.
package report

import (
	"strconv"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/stats"
)

// DateTimeLayout is the original pingapi's date_time format (UTC): Python's
// strftime("%Y%m%d%H%M%S"), e.g. "20220224154530" in its README.
const DateTimeLayout = "20060102150405"

// Measurement is the JSON summary of one measurement. RTT fields are in
// milliseconds and are null when no reply was received.
type Measurement struct {
	DateTime       string       `json:"date_time" example:"20261122070000"`
	IPHost         string       `json:"ip_host" example:"example.com"`
	IP             string       `json:"ip" example:"93.184.216.34"`
	Family         int          `json:"family" example:"4"`
	RTTMin         *float64     `json:"rtt_min" example:"11.201"`
	RTTMean        *float64     `json:"rtt_mean" example:"11.530"`
	RTTMax         *float64     `json:"rtt_max" example:"12.004"`
	RTTStdDev      *float64     `json:"rtt_stddev" example:"0.281"`
	Jitter         *float64     `json:"jitter" example:"0.312"`
	Percentiles    *Percentiles `json:"percentiles"`
	CountRequested int          `json:"count_requested" example:"5"`
	CountSent      int          `json:"count_sent" example:"5"`
	CountReceived  int          `json:"count_received" example:"5"`
	PacketLoss     float64      `json:"packet_loss" example:"33.33"` // percent, rounded to 2 decimals as the original
	Duplicates     int          `json:"duplicates" example:"0"`
	Late           int          `json:"late" example:"0"`
	StartedAt      time.Time    `json:"started_at"`
	FinishedAt     time.Time    `json:"finished_at"`
	Packets        []Packet     `json:"packets,omitempty"`
}

// Percentiles are nearest-rank percentiles of the received RTTs, in ms.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Packet is the fate of one echo request; RTT in ms, null when lost.
type Packet struct {
	Seq        int      `json:"seq"`
	RTT        *float64 `json:"rtt"`
	TTL        int      `json:"ttl,omitempty"`
	Late       bool     `json:"late,omitempty"`
	Duplicates int      `json:"duplicates,omitempty"`
}

// PacketOf converts one probe.Packet (also used for streamed lines).
func PacketOf(p probe.Packet) Packet {
	out := Packet{Seq: p.Seq, TTL: p.TTL, Late: p.Late, Duplicates: p.Duplicates}
	if p.Received {
		out.RTT = ms(p.RTT)
	}
	return out
}

// Build summarises res. input is the target as the caller gave it;
// requested the count asked for (Sent may be lower if cancelled).
func Build(input string, requested int, res probe.Result, withPackets bool) Measurement {
	rtts := make([]time.Duration, 0, res.Received)
	for _, p := range res.Packets {
		if p.Received {
			rtts = append(rtts, p.RTT)
		}
	}
	s := stats.Summarize(res.Sent, rtts, res.Duplicates)
	m := Measurement{
		DateTime:       res.Started.UTC().Format(DateTimeLayout),
		IPHost:         input,
		CountRequested: requested,
		CountSent:      res.Sent,
		CountReceived:  s.Received,
		PacketLoss:     round2(s.Loss),
		Duplicates:     res.Duplicates,
		Late:           res.Late,
		StartedAt:      res.Started.UTC(),
		FinishedAt:     res.Finished.UTC(),
	}
	if res.Target.IsValid() {
		m.IP = res.Target.String()
		m.Family = 4
		if res.Target.Is6() && !res.Target.Is4In6() {
			m.Family = 6
		}
	}
	if s.Received > 0 {
		m.RTTMin, m.RTTMean, m.RTTMax = ms(s.Min), ms(s.Mean), ms(s.Max)
		m.RTTStdDev, m.Jitter = ms(s.StdDev), ms(s.Jitter)
		m.Percentiles = &Percentiles{P50: *ms(s.P50), P90: *ms(s.P90), P95: *ms(s.P95), P99: *ms(s.P99)}
	}
	if withPackets {
		m.Packets = make([]Packet, len(res.Packets))
		for i, p := range res.Packets {
			m.Packets[i] = PacketOf(p)
		}
	}
	return m
}

// round2 rounds to 2 decimals as the original pingapi's Python round(x, 2)
// does: the nearest of the exact binary value, ties to even (strconv's
// rounding), so 100/32 = 3.125 gives 3.12 in both.
func round2(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64)
	return r
}

// ms converts to milliseconds rounded to the microsecond.
func ms(d time.Duration) *float64 {
	v := float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
	return &v
}
