// Command collector is the service a study's researchers run (docs/collector-api.md): it
// registers study descriptors, receives participants' contributions, deletes a pseudonym's data on
// withdrawal, and answers only aggregates over groups of at least k participants.
//
// It is a program of its own, beside the participant's app and connector, so that their binaries
// never link it nor its database drivers (a test checks it).
//
// Each subcommand lives in its own cmd_*.go file: the file parses flags, wires packages from pkg/
// and prints; the work itself lives in pkg/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code, err := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "collector:", err)
	}
	stop()
	os.Exit(code)
}

// execute runs the command line and returns the exit code and the error main prints.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	return exitCode(err), err
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "collector",
		Short:         "The collector of research studies: contributions in, aggregates over groups of at least k out",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdenv.Usage(err) })
	root.AddCommand(subcommands()...)
	return root
}

// subcommands lists every command of the collector, one constructor per cmd_*.go file.
func subcommands() []*cobra.Command {
	return []*cobra.Command{
		newServeCmd(),
	}
}

// Exit codes of the collector.
const (
	exitOK    = 0
	exitError = 1 // anything else
	exitUsage = 2 // bad flags or arguments, a missing database or admin token
)

// exitCode maps an error to the collector's exit codes.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, cmdenv.ErrUsage):
		return exitUsage
	}
	return exitError
}
