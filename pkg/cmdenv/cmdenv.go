// Package cmdenv lets the project's command lines take every flag from an environment variable,
// and holds what they share: the vault's flags ([Vault]) and the mark of bad usage ([ErrUsage]),
// which each program maps to its own exit code.
//
// The variables are read when a command runs, not as flag defaults, so that --help never prints
// a value from the environment: a vault URL with a password, or a token.
package cmdenv

import (
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"
)

// Fill sets each flag the command line did not set from its environment variable, when that is
// set. vars maps flag names to variable names.
func Fill(cmd *cobra.Command, vars map[string]string) error {
	flags := make([]string, 0, len(vars))
	for f := range vars {
		flags = append(flags, f)
	}
	sort.Strings(flags)
	for _, f := range flags {
		v := os.Getenv(vars[f])
		if v == "" || cmd.Flags().Changed(f) {
			continue
		}
		if err := cmd.Flags().Set(f, v); err != nil {
			return fmt.Errorf("$%s: %w", vars[f], err)
		}
	}
	return nil
}
