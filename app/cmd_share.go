package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/ui/appui"
)

func newShareCmd() *cobra.Command {
	var asJSON bool
	cmd := sharingCommand(&cobra.Command{
		Use:   "share",
		Short: "Send the measures you granted to the studies you consented to",
		Long: `Send, for each active consent, the granted measures of the study's complete past periods
(months before this one, years before this one) that were not sent yet, computed in the vault, and
retry the withdrawals the collectors have not confirmed. Only the collectors of active consents
can be reached. Every request is logged in the vault ("app consent list" shows the consents;
the web app's Studies screen shows the log).`,
		Args: cobra.NoArgs,
	}, func(cmd *cobra.Command, _ []string, ws *sharingWorkspace) error {
		ctx, now := cmd.Context(), time.Now()
		if err := ws.sharing.AllowCollectors(ctx, ws.guard, now); err != nil {
			return err
		}
		sum, shareErr := ws.sharing.Share(ctx, now)
		if err := appui.NewIn(cmd.OutOrStdout(), asJSON, cliLang(ws.workspace)).Shared(sum); err != nil {
			return err
		}
		return shareErr
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	return cmd
}
