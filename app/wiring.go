package main

import (
	"context"
	"errors"
	"slices"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/vault"
)

// vaultFlags are the flags of every command that opens the vault.
type vaultFlags struct {
	dsn, instance string
}

func (f *vaultFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dsn, "vault", "", "the vault: a file path, or http(s)://[user:password@]host:port/ [$COACHCO2_VAULT]")
	cmd.Flags().StringVar(&f.instance, "instance", "", "the person's instance name, prefix of their databases [$COACHCO2_INSTANCE]")
}

// fill reads the flags the command line left unset from the environment.
func (f *vaultFlags) fill(cmd *cobra.Command) error {
	return cmdenv.Fill(cmd, map[string]string{"vault": "COACHCO2_VAULT", "instance": "COACHCO2_INSTANCE"})
}

// workspace is what the app's commands work on: the vault and its coach.
type workspace struct {
	vault *vault.Vault
	*coach.Coach
}

func (w *workspace) Close() { w.vault.Close() }

// open opens the vault and its coach, which brings every trip's figures up to date.
func (f *vaultFlags) open(ctx context.Context, opts ...vault.Option) (*workspace, error) {
	if f.dsn == "" || f.instance == "" {
		return nil, usageError{errors.New("give --vault and --instance (or set COACHCO2_VAULT and COACHCO2_INSTANCE)")}
	}
	v, err := vault.Open(ctx, f.dsn, f.instance, opts...)
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

// Exit codes of the app, as the connector's (README, "Exit codes").
const (
	exitOK    = 0
	exitError = 1 // anything else
	exitUsage = 2 // bad flags or arguments: an invalid instance name or vault DSN...
	exitVault = 5 // the vault could not be opened, read or written (a damaged vault file...)
)

// usageError marks an error in what the person typed.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// exitCode maps an error to the app's exit codes.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, vault.ErrInvalidName), errors.Is(err, vault.ErrInvalidDSN):
		return exitUsage
	case errors.Is(err, vault.ErrStore):
		return exitVault
	}
	return exitError
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
