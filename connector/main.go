// Command connector fetches a person's trips from an OpenPATH / e-mission server into their vault.
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
		fmt.Fprintln(os.Stderr, "connector:", err)
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
	return []*cobra.Command{}
}

// exitCode maps an error to the documented exit codes (README, "Exit codes").
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	return 1
}
