package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/secretbox"
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

// exitError carries an exit code with an error.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &codedError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// errPartial reports trips that could not be kept; the summary says which.
var errPartial = &codedError{code: exitPartial, err: errors.New("some trips could not be kept, or are still to be fetched (see the summary)")}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ce *codedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, vault.ErrInvalidName), errors.Is(err, vault.ErrInvalidDSN):
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

// vaultFlags are the flags every command that opens the vault takes.
type vaultFlags struct {
	dsn      string
	instance string
}

func (f *vaultFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dsn, "vault", "", "the vault: a CouchDB URL (http[s]://[user:pass@]host:port/) or a file path [$COACHCO2_VAULT]")
	cmd.Flags().StringVar(&f.instance, "instance", "", "the person's instance name, prefix of their databases [$COACHCO2_INSTANCE]")
}

// vaultEnv are the environment variables of vaultFlags.
var vaultEnv = map[string]string{"vault": "COACHCO2_VAULT", "instance": "COACHCO2_INSTANCE"}

// fillFromEnv sets the flags the command line left unset from their environment variables
// (vaultEnv's and extra).
func fillFromEnv(cmd *cobra.Command, extra map[string]string) error {
	vars := maps.Clone(vaultEnv)
	maps.Copy(vars, extra)
	if err := cmdenv.Fill(cmd, vars); err != nil {
		return usageError("%v", err)
	}
	return nil
}

// workspace is what the commands work on: the vault, its accounts and the sync engine.
type workspace struct {
	vault    *vault.Vault
	accounts *accounts.Store
	trips    *vault.DB
	engine   *tripsync.Engine
}

func (w *workspace) Close() { w.vault.Close() }

// openOptions say what a command will do with the tokens of an embedded vault.
type openOptions struct {
	// newToken: the command was given a token (--token), which it seals in its account.
	newToken bool
	// dryRun: the command writes nothing, not even a new key file.
	dryRun bool
}

// open opens the vault and prepares its accounts and trips, for a command that is given no
// token and writes (see openWith).
func (f *vaultFlags) open(ctx context.Context) (*workspace, error) {
	return f.openWith(ctx, openOptions{})
}

// openWith opens the vault and prepares its accounts and trips. In an embedded vault, tokens are
// sealed with a key file beside the vault file (see openKey).
func (f *vaultFlags) openWith(ctx context.Context, o openOptions) (*workspace, error) {
	if f.dsn == "" {
		return nil, usageError("--vault is required (or set COACHCO2_VAULT)")
	}
	if f.instance == "" {
		return nil, usageError("--instance is required (or set COACHCO2_INSTANCE)")
	}
	v, err := vault.Open(ctx, f.dsn, f.instance)
	if err != nil {
		return nil, openError(err)
	}
	w := &workspace{vault: v}
	fail := func(err error) (*workspace, error) {
		v.Close()
		var ce *codedError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, &codedError{code: exitVault, err: err}
	}
	accountsDB, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		return fail(err)
	}
	var box *secretbox.Box
	if v.Embedded() {
		if box, err = openKey(ctx, strings.TrimPrefix(f.dsn, "file:")+".key", accountsDB, o); err != nil {
			return fail(err)
		}
	}
	if w.accounts, err = accounts.Open(ctx, accountsDB, box); err != nil {
		return fail(err)
	}
	if w.trips, err = v.DB(ctx, vault.DoctypeTrips); err != nil {
		return fail(err)
	}
	if w.engine, err = tripsync.New(ctx, w.trips, w.accounts); err != nil {
		return fail(err)
	}
	return w, nil
}

// openKey returns the box of the key file at path, which seals the tokens of an embedded vault.
// A vault without sealed tokens gets a new key file when it has none. When tokens were sealed and
// the key file is gone, they cannot be opened any more: a new key would only hide that, so
// openKey says so, unless the command was given a token to seal anew (the account's token is
// then sealed with the new key). A dry run creates no key file.
func openKey(ctx context.Context, path string, accountsDB *vault.DB, o openOptions) (*secretbox.Box, error) {
	box, err := secretbox.LoadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return box, err
	}
	sealed, err := sealedAccounts(ctx, accountsDB)
	if err != nil {
		return nil, err
	}
	switch {
	case len(sealed) > 0 && (!o.newToken || o.dryRun):
		how := "give --server and --token again (sync or accounts add) to seal each token with a new key"
		if o.newToken {
			how = "sync without --dry-run to seal the token with a new key (a dry run writes no key file)"
		}
		return nil, fmt.Errorf("the key file %s is gone: the tokens of %s were sealed with it and cannot be opened without it; "+
			"restore it from a backup, or %s", path, sealed, how)
	case o.dryRun && o.newToken:
		return nil, usageError("--dry-run writes nothing, not even the key file %s that seals the new token: "+
			"add the account first (accounts add --server URL --token TOKEN), or sync without --dry-run", path)
	case o.dryRun:
		// Nothing is sealed without a token: a key of this run only keeps the dry run from writing one.
		return secretbox.NewEphemeral()
	}
	return secretbox.CreateKeyFile(path)
}

// sealedAccounts names the accounts whose token is sealed, for a message ("" for none).
func sealedAccounts(ctx context.Context, accountsDB *vault.DB) (names, error) {
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
		if secretbox.IsSealed(a.Auth.Password) {
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

// openError gives the exit code of a vault that could not be opened: bad usage for an invalid
// instance name or DSN, a vault error otherwise.
func openError(err error) error {
	if errors.Is(err, vault.ErrInvalidName) || errors.Is(err, vault.ErrInvalidDSN) {
		return &codedError{code: exitUsage, err: err}
	}
	return &codedError{code: exitVault, err: err}
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
		return time.Time{}, usageError("--since %q: want YYYY-MM-DD or an RFC 3339 time", s)
	}
	return t, nil
}
