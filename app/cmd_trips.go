package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/aggregate"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/trip"
)

// tripLine is one trip of `app trips`.
type tripLine struct {
	ID        string       `json:"id"`
	Start     string       `json:"start"`
	End       string       `json:"end"`
	Title     string       `json:"title"`
	Modes     []trip.Mode  `json:"modes"`
	Purpose   trip.Purpose `json:"purpose"`
	DistanceM float64      `json:"distance_m"`
	DurationS float64      `json:"duration_s"`
	CO2Kg     float64      `json:"co2_kg"`
	NotATrip  bool         `json:"not_a_trip,omitempty"`
	Device    string       `json:"device"`
}

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
			err = aggregate.EachFigures(cmd.Context(), ws.trips, func(fig aggregate.Figures) error {
				a := fig.Aggregation
				if len(a.LocalStart) < 7 || q.From != "" && a.LocalStart[:7] < q.From || q.To != "" && a.LocalStart[:7] > q.To {
					return nil
				}
				if len(q.Devices) > 0 && !slices.Contains(q.Devices, fig.CaptureDevice) {
					return nil
				}
				end := a.LocalStart
				if n := len(a.Sections); n > 0 {
					end = a.Sections[n-1].EndDate
				}
				l := tripLine{ID: fig.ID, Start: a.LocalStart, End: end, Title: a.AutomaticTitle, Modes: a.Modes, Purpose: a.Purpose,
					DistanceM: a.TotalDistance, DurationS: a.TotalDuration, CO2Kg: a.TotalCO2, NotATrip: a.NotATrip, Device: fig.CaptureDevice}
				if asJSON {
					return enc.Encode(l)
				}
				modes := make([]string, len(l.Modes))
				for i, m := range l.Modes {
					modes[i] = string(m)
				}
				_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%.0f\t%.3f\t%s\n", l.Start, l.End, strings.Join(modes, "+"), l.Purpose,
					l.DistanceM/1000, l.DurationS/60, l.CO2Kg, l.ID)
				return err
			})
			if err != nil {
				return err
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
			res, err := aggregate.Refresh(cmd.Context(), ws.trips, ws.inputs, true)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d trips, %d recomputed with %s %s, %d errors\n", res.Checked, res.Recomputed, ws.set.ID, ws.set.Version, len(res.Errors))
			for _, e := range res.Errors {
				fmt.Fprintf(cmd.OutOrStdout(), "  trip %s: %s\n", e.ID, e.Error)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
