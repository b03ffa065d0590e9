package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/spf13/cobra"
)

// newCheckCmd returns "app check": open the vault, create the project's
// databases and indexes that are missing, and report each database.
func newCheckCmd() *cobra.Command {
	var dsn, instance string
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
			// Read here rather than as flag defaults, so that --help never
			// prints a password from the environment.
			if !cmd.Flags().Changed("vault") {
				dsn = os.Getenv("COACHCO2_VAULT")
			}
			if !cmd.Flags().Changed("instance") {
				instance = os.Getenv("COACHCO2_INSTANCE")
			}
			return runCheck(cmd.Context(), cmd.OutOrStdout(), dsn, instance)
		},
	}
	cmd.Flags().StringVar(&dsn, "vault", "", "vault: a file path or file:PATH, or http(s)://[user:password@]host:port/ (default $COACHCO2_VAULT)")
	cmd.Flags().StringVar(&instance, "instance", "", "instance name, the prefix of the vault's databases (default $COACHCO2_INSTANCE)")
	return cmd
}

func runCheck(ctx context.Context, out io.Writer, dsn, instance string) error {
	if dsn == "" {
		return usageError{errors.New("no vault: give --vault or set COACHCO2_VAULT")}
	}
	if instance == "" {
		return usageError{errors.New("no instance: give --instance or set COACHCO2_INSTANCE")}
	}
	v, err := vault.Open(ctx, dsn, instance)
	if err != nil {
		return err
	}
	defer v.Close()
	dbs, err := v.EnsureProject(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s, instance %s\n", v.Location(), v.Instance())
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "database\tdocuments")
	for _, db := range dbs {
		n, err := db.Count(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%d\n", db.Name(), n)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
