// Command connector fetches a person's trips from an OpenPATH / e-mission server into their vault.
//
// Run with no arguments by a Cozy stack (COZY_URL and COZY_CREDENTIALS set), it is a konnector: it
// syncs the job's account into the instance through the stack's data API.
//
// Each subcommand lives in its own cmd_*.go file: the file parses flags, wires packages from pkg/
// and prints (through pkg/ui/connectorui); the work itself lives in pkg/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/konnector"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/ui/locale"
)

func main() {
	if os.Getenv("GOMEMLIMIT") == "" { // the person's own limit wins
		debug.SetMemoryLimit(tripsync.MemoryLimit)
	}
	ctx, stop := notifyInterrupt(context.Background())
	var code int
	if konnector.Detect(os.Getenv) && len(os.Args) == 1 {
		code = runKonnector(ctx, os.Getenv, os.Stdout)
	} else {
		var err error
		if code, err = execute(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "connector:", err)
		}
	}
	stop()
	os.Exit(code)
}

// execute runs the command line as main does, and returns the exit code and the error main prints.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	err := cmdenv.Execute(ctx, newRootCmd(), args, stdout, stderr)
	if intr, ok := interruptedBy(ctx); ok && err != nil && !errors.Is(err, cmdenv.ErrUsage) {
		return intr.exitCode(), err
	}
	return exitCode(err), err
}

// interrupted is the cause of the commands' context when SIGINT or SIGTERM stopped them.
type interrupted struct{ sig os.Signal }

func (i interrupted) Error() string {
	if i.sig == syscall.SIGTERM {
		return "interrupted by SIGTERM"
	}
	return "interrupted by SIGINT"
}

// exitCode is what a shell reports for a process the signal killed (128 + its number), so that
// scripts and supervisors read the exit as they would have without the connector's clean stop.
func (i interrupted) exitCode() int {
	if i.sig == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}

// notifyInterrupt returns a context cancelled, with an [interrupted] cause, at the first SIGINT or
// SIGTERM. The commands then stop what they do and record it in a short grace period; a second
// signal ends the process at once, as the handler is gone by then.
func notifyInterrupt(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			signal.Stop(sigs)
			cancel(interrupted{sig: sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		cancel(nil)
	}
}

// interruptedBy reports the signal that cancelled ctx, if one did.
func interruptedBy(ctx context.Context) (interrupted, bool) {
	var intr interrupted
	ok := ctx.Err() != nil && errors.As(context.Cause(ctx), &intr)
	return intr, ok
}

func newRootCmd() *cobra.Command {
	return cmdenv.NewRoot("connector", "Bring your trips home: sync an OpenPATH / e-mission server into your vault",
		newSyncCmd(),
		newAccountsCmd(),
		newStatusCmd(),
		newDevserverCmd(),
	)
}

// cliText is the catalog's text of key in the system's language (the connector does not read
// the person's settings: see locale.Choose).
func cliText(key string, args ...any) string { return i18n.For(locale.Choose("")).T(key, args...) }
