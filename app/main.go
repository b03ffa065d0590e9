// Command app is the Coach CO2 backend: it computes CO2 and activity indicators from the trips in a
// person's vault, serves the web UI, and shares chosen measures with researchers under consent.
//
// Each subcommand lives in its own cmd_*.go file: the file parses flags, wires packages from pkg/
// and prints (through pkg/ui/appui); the work itself lives in pkg/.
package main

import (
	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
)

func main() { cmdenv.Main(newRootCmd, exitCode) }

func newRootCmd() *cobra.Command {
	return cmdenv.NewRoot("app", "Coach CO2: your trips and their CO2, computed inside your own vault",
		newCheckCmd(),
		newReportCmd(),
		newTripsCmd(),
		newRecomputeCmd(),
		newEditCmd(),
		newSettingsCmd(),
		newServeCmd(),
		newStudiesCmd(),
		newConsentCmd(),
		newShareCmd(),
	)
}
