package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/indicators"
)

// tripLine is one trip of `app trips`.
type tripLine = coach.TripSummary

func newTripsCmd() *cobra.Command {
	var f vaultFlags
	var q indicators.Query
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "trips",
		Short: "List the trips of a period with their modes, purpose, distance, duration and CO2",
		Args:  cobra.NoArgs,
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
			out := cmd.OutOrStdout()
			enc := json.NewEncoder(out)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			if !asJSON {
				fmt.Fprintln(tw, "START\tEND\tMODES\tPURPOSE\tKM\tMIN\tKG CO2e\tID")
			}
			list, _, err := ws.ListTrips(cmd.Context(), coach.TripQuery{Query: q})
			if err != nil {
				return err
			}
			slices.Reverse(list) // oldest first, like a log
			for _, l := range list {
				if asJSON {
					if err := enc.Encode(l); err != nil {
						return err
					}
					continue
				}
				modes := make([]string, len(l.Modes))
				for i, m := range l.Modes {
					modes[i] = string(m)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%.0f\t%.3f\t%s\n", l.Start, l.End, strings.Join(modes, "+"), l.Purpose,
					l.DistanceM/1000, l.DurationS/60, l.CO2Kg, l.ID)
			}
			if !asJSON {
				return tw.Flush()
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&q.From, "from", "", "first month, YYYY-MM")
	cmd.Flags().StringVar(&q.To, "to", "", "last month, YYYY-MM")
	cmd.Flags().StringSliceVar(&q.Devices, "device", nil, "only these capture devices")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per line")
	return cmd
}

func newRecomputeCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "recompute",
		Short: "Recompute every trip's figures now (they are also brought up to date whenever the app opens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.fill(cmd); err != nil {
				return err
			}
			ws, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ws.Close()
			res, err := ws.Recompute(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d trips, %d recomputed with %s %s, %d errors\n", res.Checked, res.Recomputed, ws.FactorSet().ID, ws.FactorSet().Version, len(res.Errors))
			for _, e := range res.Errors {
				fmt.Fprintf(cmd.OutOrStdout(), "  trip %s: %s\n", e.ID, e.Error)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
