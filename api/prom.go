package api

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Metrics is a small registry of Prometheus counters, gauges and
// histograms, written in the text exposition format 0.0.4. It exists so the
// project needs no metrics dependency. It is safe for concurrent use: every
// update and every scrape takes one mutex, which is cheap next to a
// measurement that lasts seconds.
//
// Registering a name twice returns the first registration when the type and
// label names agree, and panics otherwise (a programming error). Calling a
// series with the wrong number of label values also panics.
type Metrics struct {
	mu   sync.Mutex
	fams map[string]*family
}

// NewMetrics returns an empty registry.
func NewMetrics() *Metrics { return &Metrics{fams: map[string]*family{}} }

type family struct {
	name, help, typ string
	labels          []string
	buckets         []float64 // upper bounds, histogram only, ascending
	series          map[string]*series
}

type series struct {
	values []string // label values
	value  float64  // counter, gauge
	counts []uint64 // histogram: per bucket, not cumulative
	sum    float64  // histogram
	count  uint64   // histogram
}

// Counter is a monotonically increasing series family.
type Counter struct {
	m *Metrics
	f *family
}

// Gauge is a series family that goes up and down.
type Gauge struct {
	m *Metrics
	f *family
}

// Histogram counts observations in cumulative buckets.
type Histogram struct {
	m *Metrics
	f *family
}

// Counter registers (or returns) the counter name with the given label names.
func (m *Metrics) Counter(name, help string, labels ...string) *Counter {
	return &Counter{m, m.register(name, help, "counter", labels, nil)}
}

// Gauge registers (or returns) the gauge name with the given label names.
func (m *Metrics) Gauge(name, help string, labels ...string) *Gauge {
	return &Gauge{m, m.register(name, help, "gauge", labels, nil)}
}

// Histogram registers (or returns) the histogram name with the given bucket
// upper bounds (sorted here; +Inf is implicit) and label names.
func (m *Metrics) Histogram(name, help string, buckets []float64, labels ...string) *Histogram {
	b := slices.Clone(buckets)
	slices.Sort(b)
	b = slices.Compact(b)
	return &Histogram{m, m.register(name, help, "histogram", labels, b)}
}

func (m *Metrics) register(name, help, typ string, labels []string, buckets []float64) *family {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.fams[name]; ok {
		if f.typ != typ || !slices.Equal(f.labels, labels) {
			panic(fmt.Sprintf("api: metric %s registered twice with different type or labels", name))
		}
		return f
	}
	f := &family{name: name, help: help, typ: typ, labels: slices.Clone(labels), buckets: buckets, series: map[string]*series{}}
	m.fams[name] = f
	return f
}

// get returns the series of f for values; m.mu must be held.
func (f *family) get(values []string) *series {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("api: metric %s wants %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	s, ok := f.series[key]
	if !ok {
		s = &series{values: slices.Clone(values)}
		if f.typ == "histogram" {
			s.counts = make([]uint64, len(f.buckets))
		}
		f.series[key] = s
	}
	return s
}

// Add adds v (must be >= 0; negative values are ignored) to the series.
func (c *Counter) Add(v float64, labelValues ...string) {
	if v < 0 || math.IsNaN(v) {
		return
	}
	c.m.mu.Lock()
	c.f.get(labelValues).value += v
	c.m.mu.Unlock()
}

// Inc adds 1 to the series.
func (c *Counter) Inc(labelValues ...string) { c.Add(1, labelValues...) }

// Set sets the series to v.
func (g *Gauge) Set(v float64, labelValues ...string) {
	g.m.mu.Lock()
	g.f.get(labelValues).value = v
	g.m.mu.Unlock()
}

// Add adds v (may be negative) to the series.
func (g *Gauge) Add(v float64, labelValues ...string) {
	g.m.mu.Lock()
	g.f.get(labelValues).value += v
	g.m.mu.Unlock()
}

// Observe records one observation v.
func (h *Histogram) Observe(v float64, labelValues ...string) {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	s := h.f.get(labelValues)
	if i, _ := slices.BinarySearch(h.f.buckets, v); i < len(s.counts) {
		s.counts[i]++
	}
	s.sum += v
	s.count++
}

// WriteTo writes every family, sorted by name, its series sorted by label
// values, in the Prometheus text format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	m.mu.Lock()
	names := make([]string, 0, len(m.fams))
	for n := range m.fams {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		m.fams[n].write(bw)
	}
	m.mu.Unlock()
	_ = bw.Flush() // into a bytes.Buffer: cannot fail
	n, err := w.Write(buf.Bytes())
	return int64(n), err
}

func (f *family) write(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.typ)
	keys := make([]string, 0, len(f.series))
	for k := range f.series {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := f.series[k]
		if f.typ != "histogram" {
			fmt.Fprintf(w, "%s%s %s\n", f.name, labelString(f.labels, s.values, "", ""), formatFloat(s.value))
			continue
		}
		var cum uint64
		for i, ub := range f.buckets {
			cum += s.counts[i]
			fmt.Fprintf(w, "%s_bucket%s %d\n", f.name, labelString(f.labels, s.values, "le", formatFloat(ub)), cum)
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", f.name, labelString(f.labels, s.values, "le", "+Inf"), s.count)
		fmt.Fprintf(w, "%s_sum%s %s\n", f.name, labelString(f.labels, s.values, "", ""), formatFloat(s.sum))
		fmt.Fprintf(w, "%s_count%s %d\n", f.name, labelString(f.labels, s.values, "", ""), s.count)
	}
}

func labelString(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + `="` + escapeLabel(values[i]) + `"`)
	}
	if extraName != "" {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(extraName + `="` + extraValue + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
