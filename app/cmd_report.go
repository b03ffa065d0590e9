package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/indicators"
)

func newReportCmd() *cobra.Command {
	var f vaultFlags
	var q indicators.Query
	var factors string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report",
		Short: "CO2 and activity indicators of a period: totals, per month, mode and purpose",
		Long: `CO2 and activity indicators of a period, computed in the vault: totals, per month (every
month of the period), per mode (each section's CO2 and distance to its mode), per purpose (each
trip's whole CO2), modal shares, the CO2 avoided against the same distances by car, and the
bike-commute days per year (Forfait Mobilités Durables).

With --json the numbers are unrounded: distances in km, durations in s, CO2 in kg, energy in kcal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.fill(cmd); err != nil {
				return err
			}
			if err := q.Validate(); err != nil {
				return err
			}
			ws, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ws.Close()
			var set *co2.FactorSet
			if factors != "" {
				if set, err = co2.Lookup(factors); err != nil {
					return err
				}
			}
			r, err := ws.Report(cmd.Context(), q, set)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
			}
			return printReport(cmd.OutOrStdout(), r)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&q.From, "from", "", "first month, YYYY-MM (default: the first trip's)")
	cmd.Flags().StringVar(&q.To, "to", "", "last month, YYYY-MM (default: the last trip's)")
	cmd.Flags().StringSliceVar(&q.Devices, "device", nil, "only these capture devices (repeat or comma-separate)")
	cmd.Flags().StringVar(&factors, "factors", "", "emission factor set: "+strings.Join(setIDs(), ", ")+" (default: the settings')")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func setIDs() []string {
	var ids []string
	for _, s := range co2.Sets() {
		ids = append(ids, s.ID)
	}
	return ids
}

func printReport(out io.Writer, r *indicators.Report) error {
	fmt.Fprintf(out, "Period %s to %s · factor set %s (%s, version %s)\n\n", r.Period.From, r.Period.To, r.FactorSet.Name, r.FactorSet.ID, r.FactorSet.Version)
	t := r.Totals
	fmt.Fprintf(out, "%d trips, %d sections, %.1f km, %s, %.2f kg CO2e, %.0f kcal; %.2f kg CO2e avoided against the same distances by car\n",
		t.Trips, t.Sections, t.DistanceKm, hours(t.DurationS), t.CO2Kg, t.Calories, r.CO2AvoidedKg)
	if r.NotATrips > 0 {
		fmt.Fprintf(out, "(%d trips labelled \"not a trip\" left out)\n", r.NotATrips)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\nMODE\tTRIPS\tKM\tKG CO2e\tSHARE OF KM\t")
	for _, m := range r.ModeOrder {
		f := r.ByMode[m]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.0f%%\t\n", m, f.Trips, f.DistanceKm, f.CO2Kg, 100*r.ModalShare.ByDistance[m])
	}
	fmt.Fprintln(tw, "\nPURPOSE\tTRIPS\tKM\tKG CO2e\t\t")
	for _, p := range r.PurposeOrder {
		f := r.ByPurpose[p]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t\t\n", p, f.Trips, f.DistanceKm, f.CO2Kg)
	}
	fmt.Fprintln(tw, "\nMONTH\tTRIPS\tKM\tKG CO2e\t\t")
	for _, m := range sortedKeys(r.ByMonth) {
		f := r.ByMonth[m]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t\t\n", m, f.Trips, f.DistanceKm, f.CO2Kg)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, y := range sortedKeys(r.BikeCommuteDays) {
		fmt.Fprintf(out, "\nBike-commute days in %s: %d\n", y, r.BikeCommuteDays[y])
	}
	return nil
}

func hours(s float64) string {
	return fmt.Sprintf("%dh%02d", int(s)/3600, int(s)%3600/60)
}
