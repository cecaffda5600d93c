package main

import (
	"fmt"
	"io"
	"slices"
)

// peerSummary aggregates one peer's repetitions.
type peerSummary struct {
	Peer       string
	Targets    int
	Reps       int
	CPUPer1000 float64 // median over reps, CPU s per 1,000 requested echoes
	Lost       int64   // over all reps
	Requested  int64   // over all reps
	MaxRSSMiB  float64 // median over reps
}

// summarize groups rows by peer, in first-seen order, with medians.
func summarize(rs []peerResult) []peerSummary {
	var order []string
	by := map[string][]peerResult{}
	for _, r := range rs {
		if _, ok := by[r.Peer]; !ok {
			order = append(order, r.Peer)
		}
		by[r.Peer] = append(by[r.Peer], r)
	}
	var out []peerSummary
	for _, p := range order {
		rows := by[p]
		s := peerSummary{Peer: p, Targets: rows[0].Targets, Reps: len(rows)}
		var cpu, rss []float64
		for _, r := range rows {
			cpu = append(cpu, r.CPUPer1000())
			rss = append(rss, float64(r.MaxRSSKiB)/1024)
			s.Lost += r.Lost()
			s.Requested += r.Requested
		}
		s.CPUPer1000, s.MaxRSSMiB = median(cpu), median(rss)
		out = append(out, s)
	}
	return out
}

// median of xs (mean of the middle two for an even count); 0 when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeSummary prints medians and the ratios ours / peer, where "ours" is
// the engine row if present.
func writeSummary(w io.Writer, ss []peerSummary) {
	var eng *peerSummary
	for i := range ss {
		if ss[i].Peer == "engine" {
			eng = &ss[i]
		}
	}
	fmt.Fprintln(w, "| peer | targets | reps | CPU s / 1,000 echoes (median) | µs / echo | lost / echoes | max RSS MiB (median) | CPU engine / peer | RSS engine / peer |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range ss {
		cpuRatio, rssRatio := "", ""
		if eng != nil && s.Peer != "engine" && s.Peer != "idle" && s.CPUPer1000 > 0 && s.MaxRSSMiB > 0 {
			cpuRatio = fmt.Sprintf("%.2f", eng.CPUPer1000/s.CPUPer1000)
			rssRatio = fmt.Sprintf("%.2f", eng.MaxRSSMiB/s.MaxRSSMiB)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.4f | %.1f | %d / %d | %.1f | %s | %s |\n",
			s.Peer, s.Targets, s.Reps, s.CPUPer1000, s.CPUPer1000*1000, s.Lost, s.Requested, s.MaxRSSMiB, cpuRatio, rssRatio)
	}
}
