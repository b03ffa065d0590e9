package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/study"
)

func newConsentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Your consents to studies: grant, revoke, list",
	}
	cmd.AddCommand(newConsentGrantCmd(), newConsentRevokeCmd(), newConsentListCmd())
	return cmd
}

func newConsentGrantCmd() *cobra.Command {
	var f vaultFlags
	var measures []string
	var profile map[string]string
	var preview bool
	cmd := &cobra.Command{
		Use:   "grant STUDY",
		Short: "Consent to a study's newest version, for some of its measures",
		Long: `Consent to the newest version of a study in the vault, for the measures you list (any of
those it asks for), with the profile answers you choose to give. A new random pseudonym is drawn
for this consent. Nothing is sent now: "app share" (or app serve, daily) sends the complete past
periods. --preview prints exactly what would be sent, without consenting.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.fill(cmd); err != nil {
				return err
			}
			if len(measures) == 0 {
				return fmt.Errorf("give the measures you grant with --measures a,b")
			}
			ms := make([]study.MeasureID, len(measures))
			for i, m := range measures {
				ms[i] = study.MeasureID(strings.TrimSpace(m))
			}
			ctx := cmd.Context()
			ws, err := f.openSharing(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			out := cmd.OutOrStdout()
			if preview {
				b, err := ws.sharing.PreviewProfile(ctx, args[0], ms, profile, time.Now())
				if err != nil {
					return err
				}
				if len(b) == 0 {
					fmt.Fprintln(out, "Nothing would be sent now: no complete period of the study yet.")
					return nil
				}
				fmt.Fprintf(out, "%s\n", b)
				return nil
			}
			c, err := ws.sharing.Grant(ctx, args[0], ms, profile)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Consent to %s version %d given for %s; pseudonym %s; it lapses on %s.\nRun app share to send the complete past periods.\n",
				c.StudyID, c.StudyVersion, measureList(c.Measures), c.Pseudonym, c.ExpiresAt.Format("2006-01-02"))
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringSliceVar(&measures, "measures", nil, "the measures you grant, comma-separated (see app studies list)")
	cmd.Flags().StringToStringVar(&profile, "profile", nil, "profile answers the study offers, as field=value (repeatable)")
	cmd.Flags().BoolVar(&preview, "preview", false, "print the payload that would be sent now, and consent to nothing")
	return cmd
}

func newConsentRevokeCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "revoke STUDY",
		Short: "Revoke your consent to a study and ask its collector to delete what was sent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.fill(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			ws, err := f.openSharing(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			// The withdrawal must pass the guard: allow the collectors before revoking.
			if err := ws.allowCollectors(ctx, time.Now()); err != nil {
				return err
			}
			if err := ws.sharing.Revoke(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Consent to %s revoked; the collector deleted what was sent under it.\n", args[0])
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newConsentListCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your consents, revoked ones included",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.fill(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			ws, err := f.openSharing(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			now := time.Now()
			consents, err := ws.sharing.Consents(ctx)
			if err != nil {
				return err
			}
			active, err := ws.sharing.Active(ctx, now)
			if err != nil {
				return err
			}
			isActive := map[string]bool{}
			for _, c := range active {
				isActive[c.ID] = true
			}
			out := cmd.OutOrStdout()
			if len(consents) == 0 {
				fmt.Fprintln(out, "No consent: nothing is ever sent.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "STUDY\tVERSION\tSTATE\tMEASURES\tPROFILE\tGRANTED\tEXPIRES\tREVOKED\tPSEUDONYM")
			for _, c := range consents {
				state := "inactive (new study version: consent again)"
				switch {
				case isActive[c.ID]:
					state = "active"
				case c.WithdrawnAt != nil:
					state = "revoked, data deleted"
				case c.Withdraw:
					state = "revoked, deletion pending"
				case c.Superseded:
					state = "replaced by a newer consent"
				case !now.Before(c.ExpiresAt):
					state = "expired"
				}
				revoked := "-"
				if c.RevokedAt != nil {
					revoked = c.RevokedAt.Format("2006-01-02")
				}
				var prof []string
				for _, k := range sortedKeys(c.Profile) {
					prof = append(prof, k+"="+c.Profile[k])
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.StudyID, c.StudyVersion, state, measureList(c.Measures),
					strings.Join(prof, ","), c.GrantedAt.Format("2006-01-02"), c.ExpiresAt.Format("2006-01-02"), revoked, c.Pseudonym)
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	return cmd
}
