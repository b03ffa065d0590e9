package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/connections"
	"github.com/coachco2/coachco2/pkg/ui/connectorui"
	"github.com/coachco2/coachco2/pkg/ui/locale"
)

func newAccountsCmd() *cobra.Command {
	return cmdenv.Group("accounts", "Add, list and remove tracking server accounts",
		newAccountsAddCmd(), newAccountsListCmd(), newAccountsRemoveCmd())
}

func newAccountsAddCmd() *cobra.Command {
	var n accounts.New
	cmd := workspaceCommand(&cobra.Command{
		Use:   "add",
		Short: "Add an account (or update its token) once its server accepted the token, without syncing",
		Args:  cobra.NoArgs,
	}, map[string]string{"server": "COACHCO2_SERVER", "token": "COACHCO2_TOKEN", "device": "COACHCO2_DEVICE"},
		func(cmd *cobra.Command) (openOptions, error) {
			if err := n.Validate(); err != nil {
				return openOptions{}, cmdenv.Usage(err)
			}
			// Asked before the vault opens: a refused token or a wrong server saves nothing.
			if err := connections.Check(cmd.Context(), n.ServerURL, n.Token); err != nil {
				return openOptions{}, fmt.Errorf("%s: %w", cliText("cli.err.notAdded"), err)
			}
			return openOptions{newToken: true}, nil
		},
		func(cmd *cobra.Command, _ []string, ws *workspace) error {
			a, created, err := ws.accounts.Ensure(cmd.Context(), n)
			if err != nil {
				return classifyAccountErr(err)
			}
			key := "cli.accounts.updated"
			if created {
				key = "cli.accounts.added"
			}
			fmt.Fprintln(cmd.OutOrStdout(), cliText(key, a.ID, a.Auth.Login, a.Auth.ServerURL))
			return nil
		})
	cmd.Flags().StringVar(&n.ServerURL, "server", "", "the tracking server's URL [$COACHCO2_SERVER]")
	cmd.Flags().StringVar(&n.Token, "token", "", "the token (opcode) [$COACHCO2_TOKEN]")
	cmd.Flags().StringVar(&n.Device, "device", "phone", "a name for the phone [$COACHCO2_DEVICE]")
	return cmd
}

func newAccountsListCmd() *cobra.Command {
	var asJSON bool
	cmd := workspaceCommand(&cobra.Command{
		Use:   "list",
		Short: "List the accounts (tokens are never shown)",
		Args:  cobra.NoArgs,
	}, nil, readOnly, func(cmd *cobra.Command, _ []string, ws *workspace) error {
		list, err := ws.accounts.List(cmd.Context())
		if err != nil {
			return vaultError(err)
		}
		return connectorui.NewIn(cmd.OutOrStdout(), nil, asJSON, locale.Choose("")).Accounts(list)
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newAccountsRemoveCmd() *cobra.Command {
	return workspaceCommand(&cobra.Command{
		Use:   "remove ACCOUNT_ID",
		Short: "Remove an account; its trips stay in the vault",
		Args:  cobra.ExactArgs(1),
	}, nil, readOnly, func(cmd *cobra.Command, args []string, ws *workspace) error {
		if err := ws.accounts.Remove(cmd.Context(), args[0]); err != nil {
			return classifyAccountErr(err)
		}
		fmt.Fprintln(cmd.OutOrStdout(), cliText("cli.accounts.removed", args[0]))
		return nil
	})
}
