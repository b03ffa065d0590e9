package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/tripsync"
)

// graceTimeout bounds the recording of a run that a signal stopped: one write of the account
// takes far less, and supervisors wait longer before they kill (10 s for systemd and Docker).
const graceTimeout = 5 * time.Second

// recordRun keeps the outcome of a sync in the account, for `status`. A run stopped by a signal
// (ctx cancelled) is recorded too, as "interrupted", within graceTimeout.
func recordRun(ctx context.Context, store *accounts.Store, id string, start time.Time, sum tripsync.Summary, syncErr error, logger *slog.Logger) {
	run := &accounts.Run{
		Start: start.UTC().Format(time.RFC3339), End: time.Now().UTC().Format(time.RFC3339), Status: "ok",
		Fetched: sum.Fetched, Created: sum.Created, Updated: sum.Updated, Merged: sum.Merged, Failures: len(sum.Errors), ToRetry: sum.ToRetry,
	}
	switch {
	case syncErr != nil && ctx.Err() != nil:
		// The cause says why (the signal), where the sync's error only says "context canceled".
		run.Status, run.Error = "interrupted", context.Cause(ctx).Error()
	case syncErr != nil:
		run.Status, run.Error = "error", syncErr.Error()
	case sum.Partial:
		run.Status = "partial"
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), graceTimeout)
		defer cancel()
	}
	err := store.UpdateData(ctx, id, func(d *accounts.Data) error {
		d.LastRun = run
		return nil
	})
	if err != nil {
		logger.Warn("could not record the run in the account", "account", id, "error", err)
		return
	}
	if run.Status == "interrupted" {
		logger.Warn("run interrupted and recorded; the next run resumes where this one stopped",
			"account", id, "reason", run.Error, "created", run.Created, "updated", run.Updated)
	}
}
