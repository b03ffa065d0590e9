package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/ui/appui"
	"github.com/coachco2/coachco2/pkg/ui/locale"
	"github.com/coachco2/coachco2/pkg/vault"
)

// newCheckCmd returns "app check": open the vault, create the project's
// databases and indexes that are missing, and report each database.
func newCheckCmd() *cobra.Command {
	var f cmdenv.Vault
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Open the vault, create its missing databases and indexes, and report them",
		Long: `Open the vault, create the project's databases and Mango indexes that are missing,
and print each database's name and document count.

The vault is a file path (or file:PATH) for the embedded store, or a CouchDB URL
http(s)://[user:password@]host:port/. Flags default to the environment variables
COACHCO2_VAULT and COACHCO2_INSTANCE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.Fill(cmd, nil); err != nil {
				return err
			}
			if err := f.Check(); err != nil {
				return err
			}
			// The vault itself, without the coach: check works on a vault the coach cannot open.
			ctx := cmd.Context()
			v, err := vault.Open(ctx, f.DSN, f.Instance)
			if err != nil {
				return err
			}
			defer v.Close()
			dbs, err := v.EnsureProject(ctx)
			if err != nil {
				return err
			}
			counts := make([]appui.DBCount, len(dbs))
			for i, db := range dbs {
				n, err := db.Count(ctx)
				if err != nil {
					return err
				}
				counts[i] = appui.DBCount{Name: db.Name(), Documents: n}
			}
			return appui.Check(cmd.OutOrStdout(), vaultLang(ctx, v), v.Location(), v.Instance(), counts)
		},
	}
	f.Register(cmd)
	return cmd
}

// vaultLang is cliLang read from the vault's settings without the coach; a vault whose settings
// cannot be read speaks the system's language.
func vaultLang(ctx context.Context, v *vault.Vault) string {
	db, err := v.DB(ctx, vault.DoctypeSettings)
	if err != nil {
		return locale.Choose("")
	}
	s, err := settings.Load(ctx, db)
	if err != nil {
		return locale.Choose("")
	}
	return locale.Choose(s.Language)
}
