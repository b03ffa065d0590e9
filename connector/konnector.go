package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/konnector"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
)

// runKonnector runs one job for the Cozy stack: the account named in COZY_FIELDS is synced into
// the instance through its data API, log lines go to stdout as JSON, and the job ends with the
// error code the stack shows the person. It returns the process's exit code.
//
// The account is read as Cozy's trip konnectors read theirs (cozy-konnector-libs' fields): the
// values of the manifest's form fields under auth, the token (password) as the stack decrypts it
// for the konnector; COZY_PARAMETERS, the manifest's parameters, set the first sync window. A job
// that succeeds writes no "error" line: the stack would take it for the job's failure
// (worker/exec/konnector.go, Error).
func runKonnector(ctx context.Context, getenv func(string) string, stdout io.Writer) int {
	h := konnector.NewHandler(stdout, slog.LevelInfo)
	logger := slog.New(h)
	code, err := konnectorJob(ctx, getenv, logger)
	if intr, ok := interruptedBy(ctx); ok && err != nil {
		// Whoever sent the signal (the stack) decides the job's state: no error code is claimed.
		logger.Warn(fmt.Sprintf("%v: stopped before the end (%v); what was fetched is saved and the next run resumes where this one stopped", intr, err))
		return intr.exitCode()
	}
	if err != nil {
		logger.Error(err.Error())
	}
	if code == "" {
		logger.Info("sync done")
		return exitOK
	}
	_ = h.Critical(code) // stdout gone: the exit code still tells the stack
	return exitError
}

// konnectorJob does the job and returns the stack's error code ("" for success).
func konnectorJob(ctx context.Context, getenv func(string) string, logger *slog.Logger) (string, error) {
	start := time.Now()
	env, err := konnector.ReadEnv(getenv)
	if err != nil {
		return konnector.UnknownError, err
	}
	v, err := vault.OpenCozy(ctx, env.URL, env.Credentials)
	if err != nil {
		return konnector.UnknownError, err
	}
	// The stack encrypts accounts itself. No figures feed in a Cozy: the coach's service reads
	// the trips the konnector writes (the feed's lock, revisions and checkpoint through the
	// stack's data API are checked against a double of it only, not a real stack).
	ws, err := newWorkspace(ctx, v, nil, false)
	if err != nil {
		return konnector.UnknownError, err
	}
	defer ws.Close()
	account, err := ws.accounts.Get(ctx, env.Fields.Account)
	if errors.Is(err, accounts.ErrNotFound) {
		return konnector.UserActionNeeded + ".ACCOUNT_REMOVED", err
	}
	if err != nil {
		return konnector.UnknownError, err
	}
	token, err := ws.accounts.Token(account)
	if err != nil {
		return konnector.UnknownError, err
	}
	if err := (accounts.New{ServerURL: account.Auth.ServerURL, Token: token, Device: account.Auth.Login}).Validate(); err != nil {
		return konnector.LoginFailed, fmt.Errorf("the account is incomplete: %w", err)
	}
	client, err := openpath.New(account.Auth.ServerURL, token, openpath.WithLogger(logger))
	if err != nil {
		return konnector.LoginFailed, err
	}
	sum, err := ws.sync(ctx, account, client, tripsync.Options{Deadline: env.Deadline(start), Logger: logger,
		FirstWindow: env.Parameters.SyncWindow()})
	logger.Info(fmt.Sprintf("%d trips fetched: %d created, %d updated, %d unchanged, %d merged with an earlier copy, %d could not be kept; %d to retry; %d labels applied, %d errors",
		sum.Fetched, sum.Created, sum.Updated, sum.Unchanged, sum.Merged, sum.Failed, sum.ToRetry, sum.LabelsApplied, len(sum.Errors)))
	switch {
	case errors.Is(err, openpath.ErrAuthRefused):
		return konnector.LoginFailed, err
	case errors.Is(err, openpath.ErrServerDown), errors.Is(err, openpath.ErrMalformed):
		return konnector.VendorDown, err
	case err != nil:
		return konnector.UnknownError, err
	case sum.Incomplete():
		return konnector.PartialSync, nil
	case sum.Partial:
		logger.Info("time budget reached: the next run resumes where this one stopped")
	}
	return "", nil
}
