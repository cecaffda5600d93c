package tcpecho

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
)

// The archive's view of TCP echo.
const (
	// ArchiveTool is the tool-name of TCP echo metadata.
	ArchiveTool = "pingapi/tcp-echo"
	// KernelRTTEventType holds the kernel's RTT estimate (tcpi_rtt read at
	// each echo) as a histogram in milliseconds, beside histogram-rtt.
	KernelRTTEventType = "histogram-rtt-kernel"
	// RetransmitsEventType holds the increase of tcpi_total_retrans over
	// each window: on TCP, loss shows up as retransmissions.
	RetransmitsEventType = "packet-retransmits"
)

// PointStore is what ArchiveSink needs of the archive; *archive.Store
// implements it (its esmond ingest API).
type PointStore interface {
	PutMetadata(ctx context.Context, m archive.Metadata) (archive.Metadata, bool, error)
	AddPoints(ctx context.Context, key string, pts []archive.DataPoint) error
}

// ArchiveSink is the Sink that writes each client's windows into the
// archive as esmond data: one metadata record per (server agent, client)
// with tool-name pingapi/tcp-echo and ip-transport-protocol tcp, and one
// point per window of each event type (the ICMP series' event types, plus
// histogram-rtt-kernel and packet-retransmits).
//
// A client is an agent's announced name, or a plain client's IP address:
// the port of a plain client changes at every reconnection, and its
// history should not. Windows of one client and one start (two plain
// clients behind one NAT address, or a reconnection within a window) are
// merged into one record, so each waits Grace after its end before it is
// written. esmond timestamps are whole seconds: the Server's Window must be
// a whole number of seconds. Safe for concurrent use.
type ArchiveSink struct {
	Store PointStore
	// Agent, when valid, is the measurement-agent of every record
	// (ARCHIVE_AGENT); otherwise the address the client connected to.
	Agent    netip.Addr
	Interval time.Duration // the probe interval (time-probe-interval)
	Grace    time.Duration // wait after a window's end before writing it
	Logger   *slog.Logger  // nil: discard
	Now      func() time.Time

	mu      sync.Mutex
	pending map[aggKey]*Window
	keys    map[aggMeta]string // metadata key cache

	written, failed atomic.Int64
}

type aggMeta struct {
	agent, dest netip.Addr
	client      string
}

type aggKey struct {
	aggMeta
	start int64
}

// maxKeyCache bounds the metadata key cache; past it the cache restarts.
const maxKeyCache = 1 << 16

func (a *ArchiveSink) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *ArchiveSink) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ArchiveClient is the archive's name of the client of w: the announced
// name, or the IP address of a plain client.
func ArchiveClient(w Window) string {
	if w.Name != "" {
		return w.Name
	}
	return w.Addr.Addr().String()
}

// Window implements Sink: it merges w into its pending record and writes
// the records that are due.
func (a *ArchiveSink) Window(ctx context.Context, w Window) {
	agent := a.Agent
	if !agent.IsValid() {
		agent = w.Local.Addr()
	}
	k := aggKey{aggMeta{agent, w.Addr.Addr(), ArchiveClient(w)}, w.Start.Unix()}
	a.mu.Lock()
	if a.pending == nil {
		a.pending = map[aggKey]*Window{}
	}
	if p := a.pending[k]; p != nil {
		p.Sent += w.Sent
		p.Received += w.Received
		p.Late += w.Late
		p.Duplicates += w.Duplicates
		p.RTTs = append(p.RTTs, w.RTTs...)
		p.KernelRTTs = append(p.KernelRTTs, w.KernelRTTs...)
		p.Retransmissions += w.Retransmissions
	} else {
		c := w
		a.pending[k] = &c
	}
	a.mu.Unlock()
	a.flush(ctx, false)
}

// Run writes due records every second until ctx is done, then writes
// every pending record with a fresh 10 s budget.
func (a *ArchiveSink) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			a.flush(fctx, true)
			return
		case <-t.C:
			a.flush(ctx, false)
		}
	}
}

// Flush writes every pending record now (tests, shutdown).
func (a *ArchiveSink) Flush(ctx context.Context) { a.flush(ctx, true) }

// Written and Failed count records (windows) stored and lost.
func (a *ArchiveSink) Written() int64 { return a.written.Load() }
func (a *ArchiveSink) Failed() int64  { return a.failed.Load() }

func (a *ArchiveSink) flush(ctx context.Context, all bool) {
	now := a.now()
	type due struct {
		k aggKey
		w *Window
	}
	var out []due
	a.mu.Lock()
	for k, w := range a.pending {
		if all || !now.Before(w.End.Add(a.Grace)) {
			out = append(out, due{k, w})
			delete(a.pending, k)
		}
	}
	a.mu.Unlock()
	slices.SortFunc(out, func(x, y due) int { return cmp.Compare(x.k.start, y.k.start) })
	for _, d := range out {
		if err := a.write(ctx, d.k.aggMeta, d.w); err != nil {
			a.failed.Add(1)
			level := slog.LevelWarn
			if errors.Is(err, archive.ErrExists) { // restarted within a window
				level = slog.LevelDebug
			}
			a.log().Log(ctx, level, "tcpecho: archiving a window failed", "client", d.k.client, "start", d.w.Start, "err", err)
			continue
		}
		a.written.Add(1)
	}
}

// write stores one record.
func (a *ArchiveSink) write(ctx context.Context, m aggMeta, w *Window) error {
	key, err := a.metadataKey(ctx, m)
	if err != nil {
		return err
	}
	return a.Store.AddPoints(ctx, key, Points(*w))
}

func (a *ArchiveSink) metadataKey(ctx context.Context, m aggMeta) (string, error) {
	a.mu.Lock()
	key, ok := a.keys[m]
	a.mu.Unlock()
	if ok {
		return key, nil
	}
	md, _, err := a.Store.PutMetadata(ctx, ArchiveMetadata(m.agent, m.dest, m.client, a.Interval))
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	if a.keys == nil || len(a.keys) >= maxKeyCache {
		a.keys = map[aggMeta]string{}
	}
	a.keys[m] = md.Key
	a.mu.Unlock()
	return md.Key, nil
}

// ArchiveMetadata is the metadata record of the TCP echo series of client
// (a name or an address) at address dest, measured by agent.
func ArchiveMetadata(agent, dest netip.Addr, client string, interval time.Duration) archive.Metadata {
	ag := agent.WithZone("").String()
	md := archive.Metadata{
		SubjectType: archive.SubjectPointToPoint, Source: ag, MeasurementAgent: ag,
		Destination: dest.WithZone("").String(), InputSource: ag, InputDestination: client,
		ToolName:   ArchiveTool,
		Parameters: map[string]string{"ip-transport-protocol": "tcp"},
	}
	if interval > 0 {
		md.Parameters["time-probe-interval"] = strconv.FormatFloat(interval.Seconds(), 'f', -1, 64)
	}
	for _, e := range archive.PingEventTypes() {
		switch e.Name {
		case "histogram-ttl-reverse": // a TCP socket does not see the TTL of what it reads
			continue
		case "histogram-rtt":
			md.EventTypes = append(md.EventTypes, archive.EventType{Name: KernelRTTEventType, Summaries: e.Summaries})
		}
		md.EventTypes = append(md.EventTypes, e)
	}
	md.EventTypes = append(md.EventTypes, archive.EventType{Name: RetransmitsEventType})
	return md
}

// Points are the esmond points of one window, at its start (unix seconds).
func Points(w Window) []archive.DataPoint {
	ts := w.Start.Unix()
	lost := int64(max(w.Sent-w.Received, 0))
	pt := func(et string, v archive.Value) archive.DataPoint {
		return archive.DataPoint{TS: ts, EventType: et, Val: v}
	}
	integer := func(n int64) archive.Value { return archive.Value{Type: archive.TypeInteger, Int: n} }
	pts := []archive.DataPoint{
		pt("packet-count-sent", integer(int64(w.Sent))),
		pt("packet-count-lost-bidir", integer(lost)),
		pt("packet-duplicates-bidir", integer(int64(w.Duplicates))),
		pt("packet-reorders-bidir", integer(0)), // TCP delivers in order
		pt(RetransmitsEventType, integer(w.Retransmissions)),
	}
	if w.Sent > 0 {
		pts = append(pts, pt("packet-loss-rate-bidir", archive.Value{Type: archive.TypePercentage, Num: lost, Den: int64(w.Sent)}))
	}
	for _, h := range []struct {
		et   string
		rtts []time.Duration
	}{{"histogram-rtt", w.RTTs}, {KernelRTTEventType, w.KernelRTTs}} {
		if len(h.rtts) == 0 {
			continue
		}
		hist := make(map[string]int64, len(h.rtts))
		for _, r := range h.rtts {
			hist[archive.RTTBucket(r)]++
		}
		pts = append(pts, pt(h.et, archive.Value{Type: archive.TypeHistogram, Hist: hist}))
	}
	return pts
}
