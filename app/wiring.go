package main

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/netguard"
	"github.com/coachco2/coachco2/pkg/seal"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/vault"
)

// workspace is what the app's commands work on: the vault and its coach.
type workspace struct {
	vault *vault.Vault
	*coach.Coach
	// closers are other handles of the vault, closed with it (`app serve`'s syncs').
	closers []*vault.Vault
}

func (w *workspace) Close() {
	for _, v := range w.closers {
		v.Close()
	}
	w.vault.Close()
}

// openWorkspace opens the vault and its coach, which brings every trip's figures up to date.
// With existing, a vault file or instance that does not exist is refused as bad usage rather
// than created: every command but serve (which a person may start before their first sync).
func openWorkspace(ctx context.Context, f *cmdenv.Vault, existing bool, opts ...vault.Option) (*workspace, error) {
	v, err := f.Open(ctx, existing, opts...)
	if err != nil {
		return nil, err
	}
	c, err := coach.Open(ctx, v)
	if err != nil {
		v.Close()
		return nil, err
	}
	return &workspace{vault: v, Coach: c}, nil
}

// openTokenKey returns the box that seals the accounts' tokens in an embedded vault: the key file
// beside the vault file, as the connector keeps it (vault.db.key), created when the vault has no
// sealed token yet. When tokens were sealed and the key file is gone, it says so rather than make
// a new key that would hide it. A vault on a server gets no box: tokens are stored as given.
func openTokenKey(ctx context.Context, v *vault.Vault, dsn string) (*seal.Box, error) {
	if !v.Embedded() {
		return nil, nil
	}
	path := strings.TrimPrefix(dsn, "file:") + ".key" // the connector's spelling of it
	box, err := seal.LoadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return box, err
	}
	db, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		return nil, err
	}
	store, err := accounts.Open(ctx, db, nil)
	if err != nil {
		return nil, err
	}
	list, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		if seal.IsSealed(a.Auth.Password) {
			return nil, errors.New(envLang().T("cli.err.keyGone", path))
		}
	}
	return seal.CreateKeyFile(path)
}

// sharingWorkspace is the vault, its coach and the sharing service, whose requests go through a
// network guard that lets through only the collectors of active consents.
type sharingWorkspace struct {
	*workspace
	sharing *sharing.Service
	guard   *netguard.Guard
}

// newSharing returns the sharing service over the workspace, whose requests go through guard.
func newSharing(ctx context.Context, ws *workspace, guard *netguard.Guard) (*sharing.Service, error) {
	return sharing.New(ctx, ws.vault, ws.Coach, sharing.Options{Client: &http.Client{Transport: guard.Transport()}})
}

// coachCommand makes cmd a command over the coach: it takes --vault and --instance, and its run
// opens the workspace (which must exist: see openWorkspace), calls fn with it and closes it.
func coachCommand(cmd *cobra.Command, fn func(cmd *cobra.Command, args []string, ws *workspace) error) *cobra.Command {
	var f cmdenv.Vault
	f.Register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := f.Fill(cmd, nil); err != nil {
			return err
		}
		ws, err := openWorkspace(cmd.Context(), &f, true)
		if err != nil {
			return err
		}
		defer ws.Close()
		return fn(cmd, args, ws)
	}
	return cmd
}

// sharingCommand is coachCommand for the commands of research sharing: fn also gets the sharing
// service, behind a guard that allows no collector until told.
func sharingCommand(cmd *cobra.Command, fn func(cmd *cobra.Command, args []string, ws *sharingWorkspace) error) *cobra.Command {
	return coachCommand(cmd, func(cmd *cobra.Command, args []string, ws *workspace) error {
		guard := netguard.New()
		svc, err := newSharing(cmd.Context(), ws, guard)
		if err != nil {
			return err
		}
		return fn(cmd, args, &sharingWorkspace{workspace: ws, sharing: svc, guard: guard})
	})
}

// Exit codes of the app, as the connector's (README, "Exit codes").
const (
	exitOK    = 0
	exitError = 1 // anything else
	exitUsage = 2 // bad flags or arguments: an invalid instance name or vault DSN...
	exitVault = 5 // the vault could not be opened, read or written (a damaged vault file...)
)

// exitCode maps an error to the app's exit codes.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, cmdenv.ErrUsage), errors.Is(err, vault.ErrInvalidName), errors.Is(err, vault.ErrInvalidDSN):
		return exitUsage
	case errors.Is(err, vault.ErrStore):
		return exitVault
	}
	return exitError
}
