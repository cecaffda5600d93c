package main

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/probe"
)

// measureArchive keeps `pingapi measure --archive`'s measurements: each
// one, as the engine finishes it, goes through the archive's feed (tool
// pingapi/ping, the target as given); close writes what is queued. A nil
// *measureArchive does nothing.
type measureArchive struct {
	st     *archive.Store
	feed   *archive.Feed
	rec    *archive.Recorder
	names  map[netip.Addr]string // address measured → the target as given
	cancel context.CancelFunc
	done   chan struct{}
}

// openMeasureArchive opens the archive dsn names (a SQLite file or
// postgres://...) for the resolved jobs.
func openMeasureArchive(ctx context.Context, dsn string, jobs []*job) (*measureArchive, error) {
	st, err := archive.Open(ctx, archive.Options{DSN: dsn})
	if err != nil {
		return nil, err
	}
	var src archive.SourceAddrs
	a := &measureArchive{st: st, names: map[netip.Addr]string{}, done: make(chan struct{})}
	a.feed = archive.NewFeed(st, archive.FeedOptions{QueueSize: max(len(jobs), 1), Agent: src.Of})
	a.rec = &archive.Recorder{Feed: a.feed, Tool: archive.ToolPing}
	for _, j := range jobs {
		if _, ok := a.names[j.addr]; j.err == nil && !ok {
			a.names[j.addr] = j.t.Input
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	go func() { defer close(a.done); _ = a.feed.Run(rctx) }()
	return a, nil
}

// wrap returns eng with every finished measurement also archived.
func (a *measureArchive) wrap(eng measureEngine) measureEngine {
	if a == nil {
		return eng
	}
	return archivingEngine{eng, a}
}

// close writes what is queued and closes the archive; it says how many
// measurements could not be kept.
func (a *measureArchive) close() error {
	if a == nil {
		return nil
	}
	a.cancel()
	<-a.done
	st := a.feed.Stats()
	err := a.st.Close()
	if lost := st.Dropped + st.Failed; lost > 0 {
		return fmt.Errorf("%d of %d measurements not archived", lost, st.Queued+st.Dropped+st.Failed)
	}
	return err
}

// archivingEngine records each result before handing it on.
type archivingEngine struct {
	measureEngine
	a *measureArchive
}

func (e archivingEngine) StartEach(ctx context.Context, req probe.Request, onPacket func(probe.Packet), done func(probe.Result, error)) {
	e.measureEngine.StartEach(ctx, req, onPacket, func(res probe.Result, err error) {
		e.a.rec.Record(e.a.names[req.Target], req, res, err)
		done(res, err)
	})
}
