package cmdenv

import (
	"maps"

	"github.com/spf13/cobra"
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
	switch {
	case v.DSN == "":
		return Usagef("no vault: give --vault or set COACHCO2_VAULT")
	case v.Instance == "":
		return Usagef("no instance: give --instance or set COACHCO2_INSTANCE")
	}
	return nil
}
