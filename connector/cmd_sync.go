package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/schedule"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/ui/connectorui"
	"github.com/coachco2/coachco2/pkg/ui/locale"
)

type syncFlags struct {
	server, token, device, account string
	since                          string
	dryRun, json                   bool
	timeLimit                      time.Duration
	every                          time.Duration
}

func newSyncCmd() *cobra.Command {
	f := &syncFlags{}
	var since time.Time
	cmd := workspaceCommand(&cobra.Command{
		Use:   "sync",
		Short: "Fetch new and changed trips and labels from the tracking server into the vault",
		Long: `Fetch new and changed trips and labels from the tracking server into the vault.

With --server and --token, the account for that server and device is created on first use (its
token is sealed in an embedded vault). With --account, that account is synced; with neither, every
account in the vault is. --every keeps running and syncs all accounts periodically.`,
		Args: cobra.NoArgs,
	}, map[string]string{"server": "COACHCO2_SERVER", "token": "COACHCO2_TOKEN",
		"device": "COACHCO2_DEVICE", "account": "COACHCO2_ACCOUNT", "since": "COACHCO2_SINCE", "time-limit": "COACHCO2_TIME_LIMIT"},
		func(cmd *cobra.Command) (openOptions, error) {
			if !cmd.Flags().Changed("time-limit") {
				f.timeLimit = cozyTimeLimit()
			}
			var err error
			if since, err = parseSince(f.since); err != nil {
				return openOptions{}, err
			}
			if (f.server == "") != (f.token == "") {
				return openOptions{}, cmdenv.Usagef("%s", cliText("cli.err.serverToken"))
			}
			if f.every < 0 || f.every > 0 && f.every < time.Minute {
				return openOptions{}, cmdenv.Usagef("%s", cliText("cli.err.every"))
			}
			// Only a sync given an account to create may create the vault (a dry run never does).
			return openOptions{newToken: f.token != "", dryRun: f.dryRun, existing: f.server == ""}, nil
		},
		func(cmd *cobra.Command, _ []string, ws *workspace) error {
			return f.run(cmd.Context(), ws, since, connectorui.NewIn(cmd.OutOrStdout(), os.Stderr, f.json, locale.Choose("")))
		})
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "", "the tracking server's URL [$COACHCO2_SERVER]")
	fl.StringVar(&f.token, "token", "", "the token (opcode) the phone app shows [$COACHCO2_TOKEN]")
	fl.StringVar(&f.device, "device", "phone", "a name for the phone, kept with each trip [$COACHCO2_DEVICE]")
	fl.StringVar(&f.account, "account", "", "sync only this account id [$COACHCO2_ACCOUNT]")
	fl.StringVar(&f.since, "since", "", "read again what the server wrote since this date (YYYY-MM-DD) [$COACHCO2_SINCE]")
	fl.BoolVar(&f.dryRun, "dry-run", false, "read the server and the vault, write nothing")
	fl.BoolVar(&f.json, "json", false, "print one JSON summary per account on stdout")
	fl.DurationVar(&f.timeLimit, "time-limit", 0, "stop cleanly after this long; the next run resumes [$COACHCO2_TIME_LIMIT, or $COZY_TIME_LIMIT in seconds]")
	fl.DurationVar(&f.every, "every", 0, "keep running and sync all accounts at this interval (with jitter)")
	return cmd
}

// cozyTimeLimit reads COZY_TIME_LIMIT, whole seconds as the Cozy stack gives it (0 when unset).
func cozyTimeLimit() time.Duration {
	s, err := strconv.Atoi(os.Getenv("COZY_TIME_LIMIT"))
	if err != nil || s <= 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

func (f *syncFlags) run(ctx context.Context, ws *workspace, since time.Time, out connectorui.Printer) error {
	logger := newLogger(f.json, slog.LevelInfo)
	var ids []string
	switch {
	case f.server != "":
		a, created, err := ws.accounts.Ensure(ctx, accounts.New{ServerURL: f.server, Token: f.token, Device: f.device})
		if err != nil {
			return classifyAccountErr(err)
		}
		if created {
			logger.Info("account created", "account", a.ID, "server", a.Auth.ServerURL, "device", a.Auth.Login)
		}
		ids = []string{a.ID}
	case f.account != "":
		ids = []string{f.account}
	}
	if f.every == 0 {
		return f.syncAll(ctx, ws, ids, since, logger, out)
	}
	// Each account on its own schedule: a server that hangs holds back only its own account.
	listAccounts := func(ctx context.Context) ([]string, error) {
		all, err := ws.accounts.List(ctx)
		ids := make([]string, len(all))
		for i, a := range all {
			ids[i] = a.ID
		}
		return ids, err
	}
	schedule.Every(ctx, f.every, listAccounts, func(ctx context.Context, id string, next time.Time) {
		a, err := ws.accounts.Get(ctx, id)
		if err == nil {
			err = f.syncOne(ctx, ws, a, since, next, logger, out)
		}
		if err != nil && ctx.Err() == nil && exitCode(err) != exitPartial {
			logger.Error("sync failed; trying again at the next interval", "account", id, "error", err)
		}
	}, func(err error) {
		logger.Error("could not list the accounts; trying again at the next interval", "error", err)
	})
	logger.Info("stopping")
	return nil
}

// classifyAccountErr makes an account's error bad usage, unless it is the vault's.
func classifyAccountErr(err error) error {
	var ce *codedError
	if errors.As(err, &ce) || exitCode(err) == exitVault {
		return err
	}
	return cmdenv.Usage(err)
}

// syncAll syncs the given accounts (all of them when ids is empty), one after the other, and
// returns the most serious error.
func (f *syncFlags) syncAll(ctx context.Context, ws *workspace, ids []string, since time.Time, logger *slog.Logger, out connectorui.Printer) error {
	var list []*accounts.Account
	if len(ids) == 0 {
		all, err := ws.accounts.List(ctx)
		if err != nil {
			return vaultError(err)
		}
		for i := range all {
			list = append(list, &all[i])
		}
		if len(list) == 0 {
			return cmdenv.Usagef("%s", cliText("cli.err.noAccount"))
		}
	} else {
		for _, id := range ids {
			a, err := ws.accounts.Get(ctx, id)
			if errors.Is(err, accounts.ErrNotFound) {
				return cmdenv.Usage(err)
			}
			if err != nil {
				return vaultError(err)
			}
			list = append(list, a)
		}
	}
	var worst error
	for _, a := range list {
		if ctx.Err() != nil {
			break // interrupted: the accounts not started keep their last run
		}
		err := f.syncOne(ctx, ws, a, since, time.Time{}, logger, out)
		if err != nil && (worst == nil || exitCode(worst) == exitPartial) {
			worst = err
		}
	}
	return worst
}

// syncOne syncs one account and prints its summary. The run stops by the time limit, and by
// deadline when it is not zero.
func (f *syncFlags) syncOne(ctx context.Context, ws *workspace, a *accounts.Account, since, deadline time.Time, logger *slog.Logger, out connectorui.Printer) error {
	token, err := ws.accounts.Token(a)
	if err != nil {
		return vaultError(err)
	}
	client, err := openpath.New(a.Auth.ServerURL, token, openpath.WithLogger(logger))
	if err != nil {
		return cmdenv.Usagef("%s: %v", cliText("cli.err.account", a.ID), err)
	}
	opts := tripsync.Options{DryRun: f.dryRun, Logger: logger, Since: since}
	if f.timeLimit > 0 {
		opts.Deadline = time.Now().Add(f.timeLimit)
	}
	if !deadline.IsZero() && (opts.Deadline.IsZero() || deadline.Before(opts.Deadline)) {
		opts.Deadline = deadline
	}
	bar := out.Progress()
	opts.Progress = bar.Update
	sum, syncErr := ws.sync(ctx, a, client, opts)
	bar.Done()
	if err := out.Synced(a, sum, client.Stats(), syncErr); err != nil {
		return err
	}
	if syncErr != nil {
		return fmt.Errorf("%s: %w", cliText("cli.err.account", a.ID), syncErr)
	}
	if sum.Incomplete() {
		return errPartial()
	}
	return nil
}
