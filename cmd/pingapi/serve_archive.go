package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/config"
)

// retentionInterval is how often serve prunes the archive.
const retentionInterval = time.Hour

// archiveParts is the measurement archive of serve: the store, the feed
// that writes measurements into it, and the recorders given to the monitor
// and to the on-demand API.
type archiveParts struct {
	Store   *archive.Store
	Feed    *archive.Feed
	Monitor *archive.Recorder // tool pingapi/monitor
	Ping    *archive.Recorder // tool pingapi/ping
	done    chan struct{}     // closed when the feed and retention have stopped
	cancel  context.CancelFunc
}

// openArchive opens the archive cfg.Archive names (nil, nil when it is
// off) and starts its feed and retention; Close stops them.
func openArchive(ctx context.Context, cfg config.Config, log *slog.Logger) (*archiveParts, error) {
	ac := cfg.Archive
	if !ac.Enabled() {
		log.Info("archive off (ARCHIVE_DSN=off): measurements are not kept")
		return nil, nil
	}
	st, err := archive.Open(ctx, archive.Options{
		DSN: ac.DSN, DataDir: cfg.DataDir, Logger: log,
		Retention: archive.Retention{Raw: ac.RetentionRaw, Summaries: ac.RetentionSummaries, EventTypes: ac.RetentionEventTypes},
	})
	if err != nil {
		return nil, err
	}
	var src archive.SourceAddrs
	feed := archive.NewFeed(st, archive.FeedOptions{QueueSize: ac.QueueSize, Logger: log, Agent: src.Of})
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &archiveParts{
		Store: st, Feed: feed, done: make(chan struct{}), cancel: cancel,
		Monitor: &archive.Recorder{Feed: feed, Tool: archive.ToolMonitor, Agent: ac.Agent},
		Ping:    &archive.Recorder{Feed: feed, Tool: archive.ToolPing, Agent: ac.Agent},
	}
	retDone := make(chan struct{})
	go func() { defer close(retDone); st.RunRetention(rctx, retentionInterval) }()
	go func() {
		_ = feed.Run(rctx)
		<-retDone
		close(a.done)
	}()
	where := ac.DSN
	if st.Backend() == archive.BackendSQLite && where == "" {
		where = cfg.DataDir + "/" + archive.DefaultFile
	} else if st.Backend() == archive.BackendPostgres {
		where = "postgres"
	}
	log.Info("archive open", "backend", st.Backend(), "at", where, "retention_raw", ac.RetentionRaw, "queue", ac.QueueSize)
	return a, nil
}

// Close writes what is still queued, stops retention and closes the store.
// Call it after the monitor and the API have stopped recording.
func (a *archiveParts) Close() error {
	if a == nil {
		return nil
	}
	a.cancel()
	<-a.done
	if err := a.Store.Close(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}
