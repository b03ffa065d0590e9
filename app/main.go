// Command app is the Coach CO2 backend: it computes CO2 and activity indicators from the trips in a
// person's vault, serves the web UI, and shares chosen measures with researchers under consent.
//
// Each subcommand lives in its own cmd_*.go file: the file parses flags, wires packages from pkg/
// and prints; the work itself lives in pkg/.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(exitCode(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "app",
		Short:         "Coach CO2: your trips and their CO2, computed inside your own vault",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(subcommands()...)
	return root
}

// subcommands lists every command of the app, one constructor per cmd_*.go file.
func subcommands() []*cobra.Command {
	return []*cobra.Command{
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
	}
}
