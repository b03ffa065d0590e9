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
	"errors"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
)

func main() { cmdenv.Main(newRootCmd, exitCode) }

func newRootCmd() *cobra.Command {
	return cmdenv.NewRoot("collector", "The collector of research studies: contributions in, aggregates over groups of at least k out",
		newServeCmd(),
	)
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
