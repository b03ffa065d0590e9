package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/seal"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
)

// version is the connector's version, written in the trips' metadata.
const version = "0.1.0"

// Exit codes (README, "Exit codes").
const (
	exitOK          = 0
	exitError       = 1 // anything else
	exitUsage       = 2 // bad flags or arguments
	exitAuthRefused = 3 // the tracking server refused the token
	exitServerDown  = 4 // the tracking server is down or answers garbage
	exitVault       = 5 // the vault could not be read or written
	exitPartial     = 6 // the sync finished, but some trips could not be kept
	// A command stopped by a signal records what it did, then exits as a shell reports a process
	// the signal killed (128 + the signal's number); `sync --every` stops with exitOK instead.
	exitInterrupted = 130 // SIGINT (Ctrl-C)
	exitTerminated  = 143 // SIGTERM
)

// codedError carries an exit code with an error.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// vaultError gives an error of the vault its exit code: bad usage for an invalid instance name
// or DSN, the vault's otherwise (unless it has one).
func vaultError(err error) error {
	var ce *codedError
	switch {
	case errors.As(err, &ce), errors.Is(err, cmdenv.ErrUsage):
		return err
	case errors.Is(err, vault.ErrInvalidName), errors.Is(err, vault.ErrInvalidDSN):
		return cmdenv.Usage(err)
	}
	return &codedError{code: exitVault, err: err}
}

// errPartial reports trips that could not be kept; the summary says which.
func errPartial() error {
	return &codedError{code: exitPartial, err: errors.New(cliText("cli.err.partial"))}
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ce *codedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, cmdenv.ErrUsage), errors.Is(err, vault.ErrInvalidName), errors.Is(err, vault.ErrInvalidDSN):
		return exitUsage
	case errors.Is(err, openpath.ErrAuthRefused):
		return exitAuthRefused
	case errors.Is(err, openpath.ErrServerDown), errors.Is(err, openpath.ErrMalformed):
		return exitServerDown
	case errors.Is(err, vault.ErrStore), errors.Is(err, vault.ErrNotFound), errors.Is(err, vault.ErrConflict):
		return exitVault
	}
	return exitError
}

// workspace is what the commands and the konnector work on: the vault, its accounts and the
// sync engine.
type workspace struct {
	vault    *vault.Vault
	accounts *accounts.Store
	engine   *tripsync.Engine
}

func (w *workspace) Close() { w.vault.Close() }

// newWorkspace prepares the accounts of an open vault (their tokens sealed with box; nil when
// the vault's server encrypts them itself), its trips and the sync engine, which leaves the
// figures of the trips it writes into the app's figures cache when feed is set. It closes the
// vault when it fails.
func newWorkspace(ctx context.Context, v *vault.Vault, box *seal.Box, feed bool) (*workspace, error) {
	w := &workspace{vault: v}
	accountsDB, err := v.DB(ctx, vault.DoctypeAccounts)
	if err == nil {
		w.accounts, err = accounts.Open(ctx, accountsDB, box)
	}
	var trips *vault.DB
	if err == nil {
		trips, err = v.DB(ctx, vault.DoctypeTrips)
	}
	if err == nil {
		var opts []tripsync.Option
		if feed {
			opts = append(opts, tripsync.WithFiguresFeed(figures.NewFeed(trips, figures.SyncInputs(ctx, v))))
		}
		w.engine, err = tripsync.New(ctx, trips, w.accounts, opts...)
	}
	if err != nil {
		v.Close()
		return nil, err
	}
	return w, nil
}

// sync syncs account a with client and records the run in the account (but a dry run's): the
// sync of both the command line and the konnector.
func (w *workspace) sync(ctx context.Context, a *accounts.Account, client *openpath.Client, opts tripsync.Options) (tripsync.Summary, error) {
	opts.AppVersion, opts.Server = version, host(a.Auth.ServerURL)
	start := time.Now()
	sum, err := w.engine.Sync(ctx, a, client, opts)
	if !opts.DryRun {
		recordRun(ctx, w.accounts, a.ID, start, sum, err, opts.Logger)
	}
	return sum, err
}

func host(serverURL string) string {
	if u, err := url.Parse(serverURL); err == nil && u.Host != "" {
		return u.Host
	}
	return serverURL
}

// openOptions say what a command will do with the tokens of an embedded vault.
type openOptions struct {
	// newToken: the command was given a token (--token), which it seals in its account.
	newToken bool
	// dryRun: the command writes nothing, not even a new key file.
	dryRun bool
	// existing: the command needs a vault that exists (it only reads, or works on the accounts
	// a sync or `accounts add` made): a missing vault file or instance is refused, not created.
	existing bool
}

// open opens the vault of f and prepares its accounts and trips. In an embedded vault, tokens
// are sealed with a key file beside the vault file (see openKey).
func open(ctx context.Context, f *cmdenv.Vault, o openOptions) (*workspace, error) {
	v, err := f.Open(ctx, o.existing || o.dryRun)
	if err != nil {
		return nil, vaultError(err)
	}
	var box *seal.Box
	if v.Embedded() {
		if box, err = openKey(ctx, v, strings.TrimPrefix(f.DSN, "file:")+".key", o); err != nil {
			v.Close()
			return nil, vaultError(err)
		}
	}
	ws, err := newWorkspace(ctx, v, box, true)
	if err != nil {
		return nil, vaultError(err)
	}
	return ws, nil
}

// workspaceCommand makes cmd a command over the vault's accounts: it takes --vault and
// --instance, and its run reads them and extra's flags (flag name to variable name) from the
// environment, checks the flags with prepare (nil: nothing to check), which says what the command
// will do with tokens, opens the workspace, calls fn with it and closes it.
func workspaceCommand(cmd *cobra.Command, extra map[string]string, prepare func(*cobra.Command) (openOptions, error),
	fn func(cmd *cobra.Command, args []string, ws *workspace) error) *cobra.Command {
	var f cmdenv.Vault
	f.Register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := f.Fill(cmd, extra); err != nil {
			return err
		}
		var opts openOptions
		if prepare != nil {
			var err error
			if opts, err = prepare(cmd); err != nil {
				return err
			}
		}
		ws, err := open(cmd.Context(), &f, opts)
		if err != nil {
			return err
		}
		defer ws.Close()
		return fn(cmd, args, ws)
	}
	return cmd
}

// openKey returns the box of the key file at path, which seals the tokens of an embedded vault.
// A vault without sealed tokens gets a new key file when it has none. When tokens were sealed and
// the key file is gone, they cannot be opened any more: a new key would only hide that, so
// openKey says so, unless the command was given a token to seal anew (the account's token is
// then sealed with the new key). A dry run creates no key file.
func openKey(ctx context.Context, v *vault.Vault, path string, o openOptions) (*seal.Box, error) {
	box, err := seal.LoadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return box, err
	}
	sealed, err := sealedAccounts(ctx, v)
	if err != nil {
		return nil, err
	}
	switch {
	case len(sealed) > 0 && (!o.newToken || o.dryRun):
		how := cliText("cli.err.keyGoneAgain")
		if o.newToken {
			how = cliText("cli.err.keyGoneNoDryRun")
		}
		return nil, errors.New(cliText("cli.err.keyGoneSealed", path, fmt.Sprint(sealed), how))
	case o.dryRun && o.newToken:
		return nil, cmdenv.Usagef("%s", cliText("cli.err.dryRunKey", path))
	case o.dryRun:
		// Nothing is sealed without a token: a key of this run only keeps the dry run from writing one.
		return seal.NewEphemeral()
	}
	return seal.CreateKeyFile(path)
}

// sealedAccounts names the accounts whose token is sealed, for a message ("" for none).
func sealedAccounts(ctx context.Context, v *vault.Vault) (names, error) {
	accountsDB, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		return nil, err
	}
	store, err := accounts.Open(ctx, accountsDB, nil)
	if err != nil {
		return nil, err
	}
	list, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	var sealed names
	for _, a := range list {
		if seal.IsSealed(a.Auth.Password) {
			sealed = append(sealed, fmt.Sprintf("%s on %s", a.Auth.Login, a.Auth.ServerURL))
		}
	}
	return sealed, nil
}

// names lists accounts in a message.
type names []string

func (n names) String() string {
	const shown = 3
	if len(n) == 1 {
		return "the account " + n[0]
	}
	if len(n) <= shown {
		return fmt.Sprintf("%d accounts (%s)", len(n), strings.Join(n, ", "))
	}
	return fmt.Sprintf("%d accounts (%s...)", len(n), strings.Join(n[:shown], ", "))
}

// newLogger logs text lines to stderr, or JSON lines with --json so that output stays parseable.
func newLogger(jsonLogs bool, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if jsonLogs {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// parseSince reads --since: a date (YYYY-MM-DD) or an RFC 3339 time.
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, cmdenv.Usagef("%s", cliText("cli.err.since", s))
	}
	return t, nil
}
