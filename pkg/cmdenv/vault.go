package cmdenv

import (
	"context"
	"errors"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/ui/locale"
	"maps"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/vault"
)

// Vault is the flags of every command that opens a person's vault: --vault and --instance,
// read from $COACHCO2_VAULT and $COACHCO2_INSTANCE when the command line leaves them unset.
type Vault struct {
	// DSN is the vault: a file path (or file:PATH) for the embedded store, or a CouchDB URL.
	DSN string
	// Instance is the person's instance name, the prefix of their databases.
	Instance string
}

// Register adds --vault and --instance to cmd.
func (v *Vault) Register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&v.DSN, "vault", "", "the vault: a file path (or file:PATH), or a CouchDB URL http(s)://[user:password@]host:port/ [$COACHCO2_VAULT]")
	cmd.Flags().StringVar(&v.Instance, "instance", "", "the person's instance name, prefix of their databases [$COACHCO2_INSTANCE]")
}

// Fill sets --vault, --instance and the flags of extra (flag name to variable name) that the
// command line left unset from their environment variables (see [Fill]). A malformed value is
// bad usage.
func (v *Vault) Fill(cmd *cobra.Command, extra map[string]string) error {
	vars := map[string]string{"vault": "COACHCO2_VAULT", "instance": "COACHCO2_INSTANCE"}
	maps.Copy(vars, extra)
	return Usage(Fill(cmd, vars))
}

// Check says, as bad usage, that --vault or --instance is missing.
func (v *Vault) Check() error {
	p := i18n.For(locale.Choose("")) // the vault is not open: the system's language
	switch {
	case v.DSN == "":
		return Usagef("%s", p.T("cli.err.noVault"))
	case v.Instance == "":
		return Usagef("%s", p.T("cli.err.noInstance"))
	}
	return nil
}

// Open opens the vault of the flags, after [Vault.Check]. A command that only reads, or that
// needs what a sync or setup made, passes existing: a vault file or an instance that does not
// exist is then refused as bad usage (a typo in --vault or --instance), and nothing is created.
func (v *Vault) Open(ctx context.Context, existing bool, opts ...vault.Option) (*vault.Vault, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	if existing {
		opts = append(opts, vault.MustExist())
	}
	db, err := vault.Open(ctx, v.DSN, v.Instance, opts...)
	if errors.Is(err, vault.ErrNoVault) {
		return nil, Usage(err)
	}
	return db, err
}
