package cmdenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// ErrUsage matches the errors in what the person typed (flags, arguments, environment
// variables): each program maps it to its exit code for bad usage.
var ErrUsage = errors.New("bad usage")

// usageError marks an error as bad usage, keeping its message.
type usageError struct{ error }

func (e usageError) Unwrap() error        { return e.error }
func (e usageError) Is(target error) bool { return target == ErrUsage }

// Usage marks err as bad usage: errors.Is(Usage(err), ErrUsage) holds, and the message is err's.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// Usagef formats an error in what the person typed (see [Usage]).
func Usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// NewRoot returns a program's root command over its subcommands. Errors are returned, not
// printed (the program prints them once, see [Main]), and a flag error is bad usage.
func NewRoot(use, short string, subcommands ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:           use,
		Short:         short,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usage(err) })
	root.AddCommand(subcommands...)
	return root
}

// Execute runs root with args, writing to stdout and stderr. An error in the command line itself
// (a flag, an argument, an unknown command: anything before a command runs) is bad usage.
func Execute(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) error {
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !started {
		return Usage(err)
	}
	return err
}

// Main runs a program as a process: its command line on os.Args, stopped by SIGINT or SIGTERM
// (the context of the commands ends), its error printed on stderr after the root command's name,
// and the exit code exitCode gives the error.
func Main(newRoot func() *cobra.Command, exitCode func(error) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := newRoot()
	err := Execute(ctx, root, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", root.Name(), err)
	}
	stop()
	os.Exit(exitCode(err))
}

// Group returns a command that only groups subcommands ("app consent grant|revoke|list").
func Group(use, short string, subcommands ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short}
	cmd.AddCommand(subcommands...)
	return cmd
}
