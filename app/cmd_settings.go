package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/ui/appui"
)

func newSettingsCmd() *cobra.Command {
	var factors, home, work string
	var defaults []string
	var suggest bool
	cmd := coachCommand(&cobra.Command{
		Use:   "settings",
		Short: "Show or change the settings: factor set, default modes, home and work",
		Long: `Show the settings, or change them; the figures they affect are recomputed at once.

  app settings --factors ademe-impactco2-2022
  app settings --default-mode bike=BICYCLING_ELECTRIC --default-mode car=CAR_ELECTRIC
  app settings --home 46.1591,-1.1517 --work 46.1527,-1.1453   (latitude,longitude)
  app settings --suggest-places    (home and work suggested from your trips, and saved)`,
		Args: cobra.NoArgs,
	}, func(cmd *cobra.Command, _ []string, ws *workspace) error {
		fl := cmd.Flags()
		var suggested appui.Suggested
		var err error
		if suggest {
			if suggested.Home, suggested.Work, err = ws.SuggestPlaces(cmd.Context()); err != nil {
				return err
			}
		}
		changed := suggest || fl.Changed("factors") || fl.Changed("home") || fl.Changed("work") || fl.Changed("default-mode")
		if changed {
			_, err := ws.UpdateSettings(cmd.Context(), func(s *settings.Settings) error {
				if fl.Changed("factors") {
					s.FactorSet = factors
				}
				for _, d := range defaults {
					g, m, ok := strings.Cut(d, "=")
					if !ok {
						return errors.New(i18n.For(cliLang(ws)).T("cli.err.defaultMode", d))
					}
					if s.DefaultModes == nil {
						s.DefaultModes = map[trip.Group]trip.Mode{}
					}
					if m == "" {
						delete(s.DefaultModes, trip.Group(g))
					} else {
						s.DefaultModes[trip.Group(g)] = trip.Mode(strings.ToUpper(m))
					}
				}
				for _, p := range []struct {
					flag string
					val  string
					dst  **places.Place
					sug  *places.Suggestion
				}{{"home", home, &s.Home, suggested.Home}, {"work", work, &s.Work, suggested.Work}} {
					switch {
					case fl.Changed(p.flag) && p.val == "":
						*p.dst = nil
					case fl.Changed(p.flag):
						pl, err := places.ParseLatLon(p.val)
						if err != nil {
							return fmt.Errorf("--%s: %w", p.flag, err)
						}
						*p.dst = pl
					case p.sug != nil:
						pl := p.sug.Place
						*p.dst = &pl
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return appui.Settings(cmd.OutOrStdout(), ws.Settings(), suggested, ws.LastRefresh().Recomputed)
	})
	cmd.Flags().StringVar(&factors, "factors", "", "the emission factor set")
	cmd.Flags().StringArrayVar(&defaults, "default-mode", nil, "GROUP=MODE: your usual mode when the sensed one is generic (bike, car); GROUP= clears")
	cmd.Flags().StringVar(&home, "home", "", "your home, as latitude,longitude (\"\" clears)")
	cmd.Flags().StringVar(&work, "work", "", "your work place, as latitude,longitude (\"\" clears)")
	cmd.Flags().BoolVar(&suggest, "suggest-places", false, "suggest home and work from your trips and save the ones not given")
	return cmd
}
