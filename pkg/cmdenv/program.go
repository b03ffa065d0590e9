package cmdenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

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
