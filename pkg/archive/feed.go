package archive

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"
)

// FeedOptions configure a Feed.
type FeedOptions struct {
	// QueueSize bounds the measurements waiting to be written; beyond it
	// Record drops. 0: DefaultQueueSize.
	QueueSize int
	// BatchSize is the most measurements written in one transaction.
	// 0: DefaultBatchSize.
	BatchSize int
	Logger    *slog.Logger // nil: discard
	// Now is the clock for the drop log's rate limit; nil: time.Now.
	Now func() time.Time
	// Agent returns the measurement-agent of a measurement that has none,
	// from the address probed (e.g. SourceAddrs.Of). It runs on the
	// writer goroutine, not the producer's. nil: such measurements fail.
	Agent func(dst netip.Addr) netip.Addr
}

// Feed defaults.
const (
	DefaultQueueSize = 100000
	DefaultBatchSize = 2000
)

// FeedStats are the feed's counters since it was made, for metrics.
type FeedStats struct {
	Queued   uint64 // measurements accepted by Record
	Written  uint64 // measurements stored
	Dropped  uint64 // measurements refused because the queue was full
	Failed   uint64 // measurements lost to a failed write
	QueueLen int    // waiting now
	QueueCap int

	// Batch writes (transactions) and their durations: WriteSeconds is
	// their sum, WriteHist[i] counts those of at most WriteBounds()[i]
	// seconds and more than the bound before (not cumulative); the last
	// element counts those above every bound.
	Batches      uint64
	WriteSeconds float64
	WriteHist    [numWriteBuckets]uint64
}

// numWriteBuckets is len(WriteBounds()) + 1.
const numWriteBuckets = 14

// WriteBounds are the upper bounds, in seconds, of FeedStats.WriteHist.
func WriteBounds() []float64 {
	return []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// Feed archives measurements without making their producers wait: Record
// puts one in a bounded queue, Run writes the queue in batches. When the
// database is slower than the producers the queue fills and Record drops
// (counted, logged at most once a minute), so memory never grows without
// limit. Safe for concurrent use.
type Feed struct {
	st    *Store
	q     chan Measurement
	batch int
	log   *slog.Logger
	now   func() time.Time
	agent func(netip.Addr) netip.Addr

	queued, written, dropped, failed atomic.Uint64
	lastDropLog                      atomic.Int64 // unix seconds
	batches, writeNanos              atomic.Uint64
	writeHist                        [numWriteBuckets]atomic.Uint64
}

// NewFeed makes a feed writing into st.
func NewFeed(st *Store, o FeedOptions) *Feed {
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Feed{st: st, q: make(chan Measurement, o.QueueSize), batch: o.BatchSize, log: o.Logger, now: o.Now, agent: o.Agent}
}

// Record queues m for writing; it never blocks. It returns false, and
// counts a drop, when the queue is full (a measurement without an agent
// or address counts as failed).
func (f *Feed) Record(m Measurement) bool {
	if !m.Addr.IsValid() || (!m.Agent.IsValid() && f.agent == nil) {
		f.failed.Add(1)
		return false
	}
	select {
	case f.q <- m:
		f.queued.Add(1)
		return true
	default:
		n := f.dropped.Add(1)
		now := f.now().Unix()
		if last := f.lastDropLog.Load(); now-last >= 60 && f.lastDropLog.CompareAndSwap(last, now) {
			f.log.Warn("archive: queue full, measurement dropped", "dropped_total", n, "queue", cap(f.q))
		}
		return false
	}
}

// Stats returns the counters.
func (f *Feed) Stats() FeedStats {
	st := FeedStats{Queued: f.queued.Load(), Written: f.written.Load(), Dropped: f.dropped.Load(),
		Failed: f.failed.Load(), QueueLen: len(f.q), QueueCap: cap(f.q),
		Batches: f.batches.Load(), WriteSeconds: float64(f.writeNanos.Load()) / 1e9}
	for i := range st.WriteHist {
		st.WriteHist[i] = f.writeHist[i].Load()
	}
	return st
}

// writeTimeout bounds one batch's write.
const writeTimeout = 30 * time.Second

// Run writes queued measurements until ctx is done, then writes what is
// still queued and returns nil. A write in progress is not cancelled with
// ctx (it would lose its batch); each batch has writeTimeout.
func (f *Feed) Run(ctx context.Context) error {
	wctx := context.WithoutCancel(ctx)
	buf := make([]Measurement, 0, f.batch)
	for {
		select {
		case <-ctx.Done():
			for {
				buf = f.fill(buf[:0])
				if len(buf) == 0 {
					return nil
				}
				f.write(wctx, buf)
			}
		case m := <-f.q:
			buf = append(buf[:0], m)
			buf = f.fill(buf)
			f.write(wctx, buf)
		}
	}
}

// fill appends what is queued now, up to the batch size.
func (f *Feed) fill(buf []Measurement) []Measurement {
	for len(buf) < f.batch {
		select {
		case m := <-f.q:
			buf = append(buf, m)
		default:
			return buf
		}
	}
	return buf
}

func (f *Feed) write(ctx context.Context, ms []Measurement) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	start := time.Now()
	defer func() {
		d := time.Since(start)
		f.batches.Add(1)
		f.writeNanos.Add(uint64(d))
		i, _ := slices.BinarySearch(WriteBounds(), d.Seconds())
		f.writeHist[i].Add(1)
	}()
	for i := range ms {
		if !ms[i].Agent.IsValid() {
			ms[i].Agent = f.agent(ms[i].Addr)
		}
	}
	if err := f.st.AddMeasurements(ctx, ms); err != nil {
		f.failed.Add(uint64(len(ms)))
		f.log.Error("archive: writing measurements failed", "count", len(ms), "err", err)
		return
	}
	f.written.Add(uint64(len(ms)))
}
