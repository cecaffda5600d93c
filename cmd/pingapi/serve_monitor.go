package main

import (
	"context"
	"log/slog"

	"github.com/pingapi/pingapi/pkg/config"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/probe"
)

// buildMonitor builds and starts the monitor for serve. It returns nil, nil
// when the monitor is disabled.
func buildMonitor(ctx context.Context, cfg config.Config, eng *probe.Engine, log *slog.Logger) (*monitor.Monitor, error) {
	return nil, nil
}
