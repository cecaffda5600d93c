// Package report turns a probe.Result into its summary and into the
// measurement document (wire.Measurement) that both the HTTP API and
// `pingapi measure --json` return, so they never drift.
package report

import (
	"strconv"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/stats"
	"github.com/pingapi/pingapi/pkg/wire"
)

// DateTimeLayout is the original pingapi's date_time format (UTC): Python's
// strftime("%Y%m%d%H%M%S"), e.g. "20220224154530" in its README.
const DateTimeLayout = "20060102150405"

// Summarize is the one function from a probe result to its summary: the
// RTTs of the received replies, in sequence order, summarised by pkg/stats.
// With percentiles false it leaves P50 to P99 zero and allocates nothing
// (no copy, no sort): the monitor, whose record has no percentiles, calls
// it on the engine's loop.
func Summarize(res probe.Result, percentiles bool) stats.Summary {
	if percentiles {
		rtts := make([]time.Duration, 0, res.Received)
		for _, p := range res.Packets {
			if p.Received {
				rtts = append(rtts, p.RTT)
			}
		}
		return stats.Summarize(res.Sent, rtts, res.Duplicates)
	}
	var r stats.Running
	for _, p := range res.Packets {
		if p.Received {
			r.Add(p.RTT)
		}
	}
	return r.Summary(res.Sent, res.Duplicates)
}

// PacketOf converts one probe.Packet (also used for streamed lines).
func PacketOf(p probe.Packet) wire.Packet {
	out := wire.Packet{Seq: p.Seq, TTL: p.TTL, Late: p.Late, Duplicates: p.Duplicates}
	if p.Received {
		out.RTT = ms(p.RTT)
	}
	return out
}

// Build summarises res. input is the target as the caller gave it;
// requested the count asked for (Sent may be lower if cancelled).
func Build(input string, requested int, res probe.Result, withPackets bool) wire.Measurement {
	s := Summarize(res, true)
	m := wire.Measurement{
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
		m.Percentiles = &wire.Percentiles{P50: stats.Millis(s.P50), P90: stats.Millis(s.P90), P95: stats.Millis(s.P95), P99: stats.Millis(s.P99)}
	}
	if withPackets {
		m.Packets = make([]wire.Packet, len(res.Packets))
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

// ms is stats.Millis as a pointer, for the members that are null without a
// reply.
func ms(d time.Duration) *float64 {
	v := stats.Millis(d)
	return &v
}
