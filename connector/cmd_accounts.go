package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/accounts"
)

func newAccountsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "Add, list and remove tracking server accounts",
	}
	cmd.AddCommand(newAccountsAddCmd(), newAccountsListCmd(), newAccountsRemoveCmd())
	return cmd
}

func newAccountsAddCmd() *cobra.Command {
	var f vaultFlags
	var n accounts.New
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add an account (or update its token), without syncing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fillFromEnv(cmd, map[string]string{"server": "COACHCO2_SERVER", "token": "COACHCO2_TOKEN", "device": "COACHCO2_DEVICE"}); err != nil {
				return err
			}
			ws, err := f.openWith(cmd.Context(), openOptions{newToken: n.Token != ""})
			if err != nil {
				return err
			}
			defer ws.Close()
			a, created, err := ws.accounts.Ensure(cmd.Context(), n)
			if err != nil {
				return classifyAccountErr(err)
			}
			verb := "updated"
			if created {
				verb = "added"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s account %s (%s on %s)\n", verb, a.ID, a.Auth.Login, a.Auth.ServerURL)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&n.ServerURL, "server", "", "the tracking server's URL [$COACHCO2_SERVER]")
	cmd.Flags().StringVar(&n.Token, "token", "", "the token (opcode) [$COACHCO2_TOKEN]")
	cmd.Flags().StringVar(&n.Device, "device", "phone", "a name for the phone [$COACHCO2_DEVICE]")
	return cmd
}

func newAccountsListCmd() *cobra.Command {
	var f vaultFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the accounts (tokens are never shown)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fillFromEnv(cmd, nil); err != nil {
				return err
			}
			ws, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ws.Close()
			list, err := ws.accounts.List(cmd.Context())
			if err != nil {
				return &codedError{code: exitVault, err: err}
			}
			type row struct {
				ID     string `json:"id"`
				Device string `json:"device"`
				Server string `json:"server"`
			}
			rows := make([]row, len(list))
			for i, a := range list {
				rows[i] = row{a.ID, a.Auth.Login, a.Auth.ServerURL}
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tDEVICE\tSERVER")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Device, r.Server)
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newAccountsRemoveCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "remove ACCOUNT_ID",
		Short: "Remove an account; its trips stay in the vault",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ws.Close()
			if err := ws.accounts.Remove(cmd.Context(), args[0]); err != nil {
				return classifyAccountErr(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed account %s; its trips stay in the vault\n", args[0])
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
