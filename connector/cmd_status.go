package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/accounts"
)

func newStatusCmd() *cobra.Command {
	var f vaultFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each account's last sync, cursors, trip count and last error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fillFromEnv(cmd, nil); err != nil {
				return err
			}
			ctx := cmd.Context()
			ws, err := f.open(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			list, err := ws.accounts.List(ctx)
			if err != nil {
				return &codedError{code: exitVault, err: err}
			}
			type row struct {
				ID            string                `json:"id"`
				Device        string                `json:"device"`
				Server        string                `json:"server"`
				Trips         int                   `json:"trips"`
				Cursor        accounts.Cursors      `json:"cursor"`
				LastRun       *accounts.Run         `json:"last_run"`
				LabelsWaiting int                   `json:"labels_waiting"`
				FailedTrips   []accounts.FailedTrip `json:"failed_trips"`
				// ToRetry are trips the server announced but has not sent yet.
				ToRetry []accounts.RetryTrip `json:"to_retry"`
				// PossibleDuplicates are pairs of trips that overlap in time (see tripsync.DeviceReport).
				PossibleDuplicates [][2]string `json:"possible_duplicates"`
			}
			rows := make([]row, 0, len(list))
			for _, a := range list {
				report, err := ws.engine.Report(ctx, a.Auth.Login)
				if err != nil {
					return &codedError{code: exitVault, err: err}
				}
				rows = append(rows, row{ID: a.ID, Device: a.Auth.Login, Server: a.Auth.ServerURL, Trips: report.Trips, Cursor: a.Data.Cursors,
					LastRun: a.Data.LastRun, LabelsWaiting: len(a.Data.PendingLabels), FailedTrips: a.Data.FailedTrips,
					ToRetry: a.Data.Retry, PossibleDuplicates: report.PossibleDuplicates})
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tDEVICE\tTRIPS\tLAST SYNC\tSTATUS\tDATA UP TO\tLABELS WAITING\tTO RETRY\tPOSSIBLE DUPLICATES\tLAST ERROR")
			for _, r := range rows {
				last, status, lastErr := "never", "-", ""
				if r.LastRun != nil {
					last, status, lastErr = r.LastRun.End, r.LastRun.Status, r.LastRun.Error
				}
				upTo := "-"
				if r.Cursor.Trips > 0 {
					upTo = time.Unix(int64(r.Cursor.Trips), 0).UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.ID, r.Device, r.Trips, last, status, upTo, r.LabelsWaiting,
					len(r.ToRetry), len(r.PossibleDuplicates), lastErr)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, r := range rows {
				for _, m := range r.ToRetry {
					fmt.Fprintf(cmd.OutOrStdout(), "account %s: trip to retry: the trip of %s starting at %s (missing since %s, asked %d times)\n",
						r.ID, m.Day, time.Unix(int64(m.StartTS), 0).UTC().Format(time.RFC3339), m.Since, m.Attempts)
				}
				for _, d := range r.PossibleDuplicates {
					fmt.Fprintf(cmd.OutOrStdout(), "account %s: possible duplicate: trips %s and %s overlap in time\n", r.ID, d[0], d[1])
				}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
