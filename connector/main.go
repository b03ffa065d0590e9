// Command connector fetches a person's trips from an OpenPATH / e-mission server into their vault.
//
// Run with no arguments by a Cozy stack (COZY_URL and COZY_CREDENTIALS set), it is a konnector: it
// syncs the job's account into the instance through the stack's data API.
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

	"github.com/coachco2/coachco2/pkg/konnector"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if konnector.Detect(os.Getenv) && len(os.Args) == 1 {
		os.Exit(runKonnector(ctx, os.Getenv, os.Stdout))
	}
	root := newRootCmd()
	started := false // set once flags and arguments were accepted
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "connector:", err)
		if !started {
			os.Exit(exitUsage)
		}
		os.Exit(exitCode(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "connector",
		Short:         "Bring your trips home: sync an OpenPATH / e-mission server into your vault",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(subcommands()...)
	return root
}

// subcommands lists every command of the connector, one constructor per cmd_*.go file.
func subcommands() []*cobra.Command {
	return []*cobra.Command{
		newSyncCmd(),
		newAccountsCmd(),
		newStatusCmd(),
		newDevserverCmd(),
	}
}
