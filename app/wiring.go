package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/aggregate"
	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/settings"
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

// workspace is what the app's commands work on.
type workspace struct {
	vault      *vault.Vault
	trips      *vault.DB
	settingsDB *vault.DB
	settings   settings.Settings
	set        *co2.FactorSet
	inputs     aggregate.Inputs
	// refreshed says what the refresh on opening did.
	refreshed aggregate.Result
}

func (w *workspace) Close() { w.vault.Close() }

// open opens the vault, reads the settings and brings every trip's figures up to date: figures
// computed with another factor set, other settings or an older trip are recomputed on opening.
func (f *vaultFlags) open(ctx context.Context) (*workspace, error) {
	if f.dsn == "" || f.instance == "" {
		return nil, fmt.Errorf("give --vault and --instance (or set COACHCO2_VAULT and COACHCO2_INSTANCE)")
	}
	v, err := vault.Open(ctx, f.dsn, f.instance)
	if err != nil {
		return nil, err
	}
	w := &workspace{vault: v}
	if err := w.load(ctx); err != nil {
		v.Close()
		return nil, err
	}
	return w, nil
}

func (w *workspace) load(ctx context.Context) error {
	var err error
	if w.trips, err = w.vault.DB(ctx, vault.DoctypeTrips); err != nil {
		return err
	}
	if err := w.trips.EnsureIndexes(ctx, aggregate.Indexes...); err != nil {
		return err
	}
	if w.settingsDB, err = w.vault.DB(ctx, vault.DoctypeSettings); err != nil {
		return err
	}
	if w.settings, err = settings.Load(ctx, w.settingsDB); err != nil {
		return err
	}
	return w.useSettings(ctx, w.settings)
}

// useSettings makes s the settings in force and recomputes the figures they change.
func (w *workspace) useSettings(ctx context.Context, s settings.Settings) error {
	setID := s.FactorSet
	if setID == "" {
		setID = co2.DefaultSetID
	}
	set, err := co2.Lookup(setID)
	if err != nil {
		return err
	}
	w.settings, w.set = s, set
	w.inputs = aggregate.NewInputs(set, s)
	res, err := aggregate.Refresh(ctx, w.trips, w.inputs, false)
	w.refreshed = res
	if err != nil {
		return fmt.Errorf("bring the trips' figures up to date: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
