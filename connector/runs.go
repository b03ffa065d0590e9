package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/connections"
	"github.com/coachco2/coachco2/pkg/tripsync"
)

// recordRun keeps the outcome of a sync in the account, for `status`, as the web app's syncs do
// (see [connections.RecordRun]): a run stopped by a signal is recorded as "interrupted".
func recordRun(ctx context.Context, store *accounts.Store, id string, start time.Time, sum tripsync.Summary, syncErr error, logger *slog.Logger) {
	connections.RecordRun(ctx, store, id, start, sum, syncErr, logger)
}
