package main

import (
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/ui/appui"
)

func newConsentCmd() *cobra.Command {
	return cmdenv.Group("consent", "Your consents to studies: grant, revoke, list",
		newConsentGrantCmd(), newConsentRevokeCmd(), newConsentListCmd())
}

func newConsentGrantCmd() *cobra.Command {
	var measures []string
	var profile map[string]string
	var preview bool
	var ms []study.MeasureID
	cmd := sharingCommand(&cobra.Command{
		Use:   "grant STUDY",
		Short: "Consent to a study's newest version, for some of its measures",
		Long: `Consent to the newest version of a study in the vault, for the measures you list (any of
those it asks for), with the profile answers you choose to give. A new random pseudonym is drawn
for this consent. Nothing is sent now: "app share" (or app serve, daily) sends the complete past
periods. --preview prints exactly what would be sent, without consenting.`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(*cobra.Command, []string) error {
			if len(measures) == 0 {
				return errors.New(envLang().T("cli.err.measures"))
			}
			ms = make([]study.MeasureID, len(measures))
			for i, m := range measures {
				ms[i] = study.MeasureID(strings.TrimSpace(m))
			}
			return nil
		},
	}, func(cmd *cobra.Command, args []string, ws *sharingWorkspace) error {
		ctx, out := cmd.Context(), cmd.OutOrStdout()
		if preview {
			b, err := ws.sharing.PreviewProfile(ctx, args[0], ms, profile, time.Now())
			if err != nil {
				return err
			}
			appui.Preview(out, cliLang(ws.workspace), b)
			return nil
		}
		c, err := ws.sharing.Grant(ctx, args[0], ms, profile)
		if err != nil {
			return err
		}
		appui.Granted(out, cliLang(ws.workspace), c)
		return nil
	})
	cmd.Flags().StringSliceVar(&measures, "measures", nil, "the measures you grant, comma-separated (see app studies list)")
	cmd.Flags().StringToStringVar(&profile, "profile", nil, "profile answers the study offers, as field=value (repeatable)")
	cmd.Flags().BoolVar(&preview, "preview", false, "print the payload that would be sent now, and consent to nothing")
	return cmd
}

func newConsentRevokeCmd() *cobra.Command {
	return sharingCommand(&cobra.Command{
		Use:   "revoke STUDY",
		Short: "Revoke your consent to a study and ask its collector to delete what was sent",
		Args:  cobra.ExactArgs(1),
	}, func(cmd *cobra.Command, args []string, ws *sharingWorkspace) error {
		ctx := cmd.Context()
		// The withdrawal must pass the guard: allow the collectors before revoking.
		if err := ws.sharing.AllowCollectors(ctx, ws.guard, time.Now()); err != nil {
			return err
		}
		if err := ws.sharing.Revoke(ctx, args[0]); err != nil {
			return err
		}
		appui.Revoked(cmd.OutOrStdout(), cliLang(ws.workspace), args[0])
		return nil
	})
}

func newConsentListCmd() *cobra.Command {
	return sharingCommand(&cobra.Command{
		Use:   "list",
		Short: "List your consents, revoked ones included",
		Args:  cobra.NoArgs,
	}, func(cmd *cobra.Command, _ []string, ws *sharingWorkspace) error {
		ctx, now := cmd.Context(), time.Now()
		consents, err := ws.sharing.Consents(ctx)
		if err != nil {
			return err
		}
		active, err := ws.sharing.Active(ctx, now)
		if err != nil {
			return err
		}
		return appui.Consents(cmd.OutOrStdout(), cliLang(ws.workspace), consents, active, now)
	})
}
