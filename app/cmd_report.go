package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/ui/appui"
	"github.com/coachco2/coachco2/pkg/ui/locale"
)

func newReportCmd() *cobra.Command {
	var q indicators.Query
	var factors string
	var asJSON bool
	cmd := coachCommand(&cobra.Command{
		Use:   "report",
		Short: "CO2 and activity indicators of a period: totals, per month, mode and purpose",
		Long: `CO2 and activity indicators of a period, computed in the vault: totals, per month (every
month of the period), per mode (each section's CO2 and distance to its mode), per purpose (each
trip's whole CO2), modal shares, the CO2 avoided by walking, cycling and public transport against the same distances by car, and the
bike-commute days per year (Forfait Mobilités Durables).

With --json the numbers are unrounded: distances in km, durations in s, CO2 in kg, energy in kcal.`,
		Args:    cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error { return q.Validate() },
	}, func(cmd *cobra.Command, _ []string, ws *workspace) error {
		var set *co2.FactorSet
		if factors != "" {
			var err error
			if set, err = co2.Lookup(factors); err != nil {
				return err
			}
		}
		r, err := ws.Report(cmd.Context(), q, set)
		if err != nil {
			return err
		}
		return appui.NewIn(cmd.OutOrStdout(), asJSON, cliLang(ws)).Report(r)
	})
	cmd.Flags().StringVar(&q.From, "from", "", "first month, YYYY-MM (default: the first trip's)")
	cmd.Flags().StringVar(&q.To, "to", "", "last month, YYYY-MM (default: the last trip's)")
	cmd.Flags().StringSliceVar(&q.Devices, "device", nil, "only these capture devices (repeat or comma-separate)")
	cmd.Flags().StringVar(&factors, "factors", "", "emission factor set: "+strings.Join(setIDs(), ", ")+" (default: the settings')")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// cliLang is the language the app's text output speaks: the person's setting, else the
// system's locale (see locale.Choose).
func cliLang(ws *workspace) string { return locale.Choose(ws.Settings().Language) }

// envLang is the language of what a command says before the vault is open (usage errors): the
// system's locale.
func envLang() *i18n.Printer { return i18n.For(locale.Choose("")) }

func setIDs() []string {
	var ids []string
	for _, s := range co2.Sets() {
		ids = append(ids, s.ID)
	}
	return ids
}
