package main

import (
	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/ui/connectorui"
	"github.com/coachco2/coachco2/pkg/ui/locale"
)

func newStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := workspaceCommand(&cobra.Command{
		Use:   "status",
		Short: "Show each account's last sync, cursors, trip count and last error",
		Args:  cobra.NoArgs,
	}, nil, readOnly, func(cmd *cobra.Command, _ []string, ws *workspace) error {
		ctx := cmd.Context()
		list, err := ws.accounts.List(ctx)
		if err != nil {
			return vaultError(err)
		}
		rows := make([]connectorui.StatusRow, 0, len(list))
		for _, a := range list {
			report, err := ws.engine.Report(ctx, a.Auth.Login)
			if err != nil {
				return vaultError(err)
			}
			rows = append(rows, connectorui.NewStatusRow(a, report))
		}
		return connectorui.NewIn(cmd.OutOrStdout(), nil, asJSON, locale.Choose("")).Status(rows)
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// readOnly prepares a command that needs an existing vault: it creates none.
func readOnly(*cobra.Command) (openOptions, error) { return openOptions{existing: true}, nil }
