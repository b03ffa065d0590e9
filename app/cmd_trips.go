package main

import (
	"slices"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/ui/appui"
)

func newTripsCmd() *cobra.Command {
	var q indicators.Query
	var asJSON bool
	cmd := coachCommand(&cobra.Command{
		Use:     "trips",
		Short:   "List the trips of a period with their modes, purpose, distance, duration and CO2",
		Args:    cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error { return q.Validate() },
	}, func(cmd *cobra.Command, _ []string, ws *workspace) error {
		list, _, err := ws.ListTrips(cmd.Context(), coach.TripQuery{Query: q})
		if err != nil {
			return err
		}
		slices.Reverse(list) // oldest first, like a log
		return appui.NewIn(cmd.OutOrStdout(), asJSON, cliLang(ws)).Trips(list)
	})
	cmd.Flags().StringVar(&q.From, "from", "", "first month, YYYY-MM")
	cmd.Flags().StringVar(&q.To, "to", "", "last month, YYYY-MM")
	cmd.Flags().StringSliceVar(&q.Devices, "device", nil, "only these capture devices")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per line")
	return cmd
}

func newRecomputeCmd() *cobra.Command {
	return coachCommand(&cobra.Command{
		Use:   "recompute",
		Short: "Recompute every trip's figures now (they are also brought up to date whenever the app opens)",
		Args:  cobra.NoArgs,
	}, func(cmd *cobra.Command, _ []string, ws *workspace) error {
		res, err := ws.Recompute(cmd.Context())
		if err != nil {
			return err
		}
		appui.Recomputed(cmd.OutOrStdout(), cliLang(ws), res, ws.FactorSet())
		return nil
	})
}
