package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/ui/appui"
)

func newEditCmd() *cobra.Command {
	var e figures.Edit
	var purpose, title, mode string
	var recurring, yes, undo bool
	var sectionModes []string
	cmd := coachCommand(&cobra.Command{
		Use:   "edit TRIP_ID",
		Short: "Correct a trip: its purpose, title, recurrence, mode or a section's mode",
		Long: `Correct a trip; its figures are recomputed at once. A recurring trip's purpose goes to
every similar trip (both ends within 200 m, either direction) whose purpose neither you nor your
phone gave. Without --yes, such an edit only says which trips it would change, and changes
nothing; --undo-recurring takes it back.

  app edit TRIP --purpose COMMUTE --recurring         (shows the trips it would change)
  app edit TRIP --purpose COMMUTE --recurring --yes
  app edit TRIP --undo-recurring
  app edit TRIP --section-mode 1=BICYCLING_ELECTRIC
  app edit TRIP --mode BUS          (the whole trip's non-walking sections)`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			if fl.Changed("purpose") {
				p := trip.Purpose(strings.ToUpper(purpose))
				e.Purpose = &p
			}
			if fl.Changed("title") {
				e.Title = &title
			}
			if fl.Changed("recurring") {
				e.Recurring = &recurring
			}
			if fl.Changed("mode") {
				m := trip.Mode(strings.ToUpper(mode))
				e.Mode = &m
			}
			for _, sm := range sectionModes {
				i, m, ok := strings.Cut(sm, "=")
				n, err := strconv.Atoi(i)
				if !ok || err != nil {
					return errors.New(envLang().T("cli.err.sectionMode", sm))
				}
				if e.SectionModes == nil {
					e.SectionModes = map[int]trip.Mode{}
				}
				e.SectionModes[n] = trip.Mode(strings.ToUpper(m))
			}
			return nil
		},
	}, func(cmd *cobra.Command, args []string, ws *workspace) error {
		if undo {
			undone, err := ws.UndoRecurring(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return appui.UndoneRecurring(cmd.OutOrStdout(), args[0], undone)
		}
		if !yes {
			preview, err := ws.PreviewEdit(cmd.Context(), args[0], e)
			if err != nil {
				return err
			}
			if len(preview) > 0 {
				return appui.EditNotApplied(cmd.OutOrStdout(), args[0], preview)
			}
		}
		propagated, err := ws.Edit(cmd.Context(), args[0], e)
		if err != nil {
			return err
		}
		_, a, err := ws.Trip(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		return appui.Edited(cmd.OutOrStdout(), args[0], a, propagated)
	})
	cmd.Flags().StringVar(&purpose, "purpose", "", "the trip's purpose: "+joinPurposes()+" (\"\" clears)")
	cmd.Flags().StringVar(&title, "title", "", "the trip's title")
	cmd.Flags().BoolVar(&recurring, "recurring", false, "mark the trip recurring: its purpose goes to similar trips")
	cmd.Flags().BoolVar(&yes, "yes", false, "apply an edit that gives the purpose to similar trips (without it, only show them)")
	cmd.Flags().BoolVar(&undo, "undo-recurring", false, "make the trip no longer recurring and give the similar trips their purpose back")
	cmd.MarkFlagsMutuallyExclusive("undo-recurring", "purpose")
	cmd.MarkFlagsMutuallyExclusive("undo-recurring", "recurring")
	cmd.Flags().StringVar(&mode, "mode", "", "the mode of the whole trip (\"\" clears)")
	cmd.Flags().StringArrayVar(&sectionModes, "section-mode", nil, "INDEX=MODE: a section's mode (repeat; INDEX= clears)")
	return cmd
}

func joinPurposes() string {
	var s []string
	for _, p := range trip.Purposes() {
		s = append(s, string(p))
	}
	return strings.Join(s, ", ")
}
