package main

import (
	"context"
	"errors"
	"fmt"
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
var errPartial = &codedError{code: exitPartial, err: errors.New("some trips could not be kept (see the errors in the summary)")}

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

// open opens the vault and prepares its accounts and trips. In an embedded vault, tokens are
// sealed with a key file beside the vault file.
func (f *vaultFlags) open(ctx context.Context) (*workspace, error) {
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
		return nil, &codedError{code: exitVault, err: err}
	}
	var box *secretbox.Box
	if v.Embedded() {
		if box, err = secretbox.OpenKeyFile(strings.TrimPrefix(f.dsn, "file:") + ".key"); err != nil {
			return fail(err)
		}
	}
	accountsDB, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		return fail(err)
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
