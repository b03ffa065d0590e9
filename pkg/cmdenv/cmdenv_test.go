package cmdenv_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/vault"
)

func TestFill(t *testing.T) {
	t.Setenv("X_TOKEN", "s3cret")
	t.Setenv("X_LIMIT", "90s")
	t.Setenv("X_NAME", "from-env")
	var token, name string
	var limit time.Duration
	cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) error {
		return cmdenv.Fill(cmd, map[string]string{"token": "X_TOKEN", "limit": "X_LIMIT", "name": "X_NAME"})
	}}
	cmd.Flags().StringVar(&token, "token", "", "the token")
	cmd.Flags().DurationVar(&limit, "limit", 0, "a limit")
	cmd.Flags().StringVar(&name, "name", "", "a name")
	cmd.SetArgs([]string{"--name", "from-flag"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if token != "s3cret" || limit != 90*time.Second || name != "from-flag" {
		t.Fatalf("token %q limit %v name %q: the environment fills unset flags only", token, limit, name)
	}
	var help bytes.Buffer
	cmd.SetOut(&help)
	cmd.SetArgs([]string{"--help"})
	_ = cmd.Execute()
	if strings.Contains(help.String(), "s3cret") {
		t.Fatal("--help shows a value from the environment")
	}
	t.Setenv("X_LIMIT", "soon")
	fresh := &cobra.Command{Use: "y", RunE: func(cmd *cobra.Command, _ []string) error {
		return cmdenv.Fill(cmd, map[string]string{"limit": "X_LIMIT"})
	}}
	fresh.Flags().Duration("limit", 0, "a limit")
	fresh.SetArgs(nil)
	if err := fresh.Execute(); err == nil || !strings.Contains(err.Error(), "X_LIMIT") {
		t.Fatalf("a malformed variable: %v", err)
	}
}

// TestVault: --vault and --instance come from the command line, else from the environment; a
// missing one or a malformed variable is bad usage, and a bad usage error keeps its message.
func TestVault(t *testing.T) {
	t.Setenv("COACHCO2_VAULT", "/var/lib/coachco2/vault.db")
	t.Setenv("COACHCO2_INSTANCE", "")
	t.Setenv("X_EVERY", "daily")
	var v cmdenv.Vault
	var every time.Duration
	var fillErr error
	cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) error {
		fillErr = v.Fill(cmd, map[string]string{"every": "X_EVERY"})
		return nil
	}}
	v.Register(cmd)
	cmd.Flags().DurationVar(&every, "every", 0, "an interval")
	cmd.SetArgs([]string{"--every", "1h"})
	if err := cmd.Execute(); err != nil || fillErr != nil {
		t.Fatal(err, fillErr)
	}
	if v.DSN != "/var/lib/coachco2/vault.db" || v.Instance != "" || every != time.Hour {
		t.Fatalf("vault %+v, every %v", v, every)
	}
	if err := v.Check(); !errors.Is(err, cmdenv.ErrUsage) || err.Error() != "no instance: give --instance or set COACHCO2_INSTANCE" {
		t.Fatalf("no instance: %v", err)
	}
	cmd.SetArgs([]string{"--instance", "alice"})
	cmd.Flags().Lookup("every").Changed = false
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(fillErr, cmdenv.ErrUsage) || !strings.Contains(fillErr.Error(), "$X_EVERY") {
		t.Fatalf("a malformed variable: %v, want bad usage naming it", fillErr)
	}
	if err := v.Check(); err != nil || v.Instance != "alice" {
		t.Fatalf("with both: %v, %+v", err, v)
	}
	if err := (&cmdenv.Vault{Instance: "alice"}).Check(); !errors.Is(err, cmdenv.ErrUsage) || !strings.Contains(err.Error(), "--vault") {
		t.Fatalf("no vault: %v", err)
	}
	if cmdenv.Usage(nil) != nil {
		t.Fatal("Usage(nil) is not nil")
	}
	base := errors.New("base")
	if err := cmdenv.Usage(fmt.Errorf("wrapped: %w", base)); !errors.Is(err, base) || !errors.Is(err, cmdenv.ErrUsage) || err.Error() != "wrapped: base" {
		t.Fatalf("Usage: %v", err)
	}
}

// TestExecute: what the command line gets wrong (a flag, an argument, a command) is bad usage;
// an error of a command that ran is the command's.
func TestExecute(t *testing.T) {
	failure := errors.New("the vault is gone")
	newRoot := func() *cobra.Command {
		run := &cobra.Command{Use: "run", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return failure }}
		run.Flags().Int("n", 0, "a number")
		return cmdenv.NewRoot("prog", "a program", run)
	}
	for _, c := range []struct {
		args  []string
		usage bool
	}{
		{[]string{"run", "--nope"}, true},
		{[]string{"run", "--n", "many"}, true},
		{[]string{"run", "extra"}, true},
		{[]string{"walk"}, true},
		{[]string{"run"}, false},
	} {
		var out bytes.Buffer
		err := cmdenv.Execute(t.Context(), newRoot(), c.args, &out, &out)
		if err == nil || errors.Is(err, cmdenv.ErrUsage) != c.usage || !c.usage && !errors.Is(err, failure) {
			t.Errorf("%v: %v (usage %v), want usage %v", c.args, err, errors.Is(err, cmdenv.ErrUsage), c.usage)
		}
		if out.Len() != 0 {
			t.Errorf("%v printed %q: the program prints its error once", c.args, out.String())
		}
	}
}

// TestSecret: a secret comes from its file, else from its variable, trimmed; a file others may
// read is reported.
func TestSecret(t *testing.T) {
	t.Setenv("X_SECRET", "  from-env\n")
	dir := t.TempDir()
	private, shared := filepath.Join(dir, "private"), filepath.Join(dir, "shared")
	if err := os.WriteFile(private, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shared, []byte("shared-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file, want string
		warned     bool
	}{{"", "from-env", false}, {private, "from-file", false}, {shared, "shared-file", true}} {
		warned := false
		got, err := cmdenv.Secret(c.file, "X_SECRET", func() { warned = true })
		if err != nil || got != c.want || warned != c.warned {
			t.Errorf("Secret(%q): %q, %v, warned %v; want %q, warned %v", c.file, got, err, warned, c.want, c.warned)
		}
	}
	if _, err := cmdenv.Secret(filepath.Join(dir, "missing"), "X_SECRET", nil); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestVaultOpen: with existing, a missing vault file is bad usage naming it (matching
// vault.ErrNoVault) and is not created; without, it is created.
func TestVaultOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.db")
	f := cmdenv.Vault{DSN: path, Instance: "alice"}
	if _, err := f.Open(t.Context(), true); !errors.Is(err, cmdenv.ErrUsage) || !errors.Is(err, vault.ErrNoVault) || !strings.Contains(err.Error(), path) {
		t.Fatalf("a missing vault: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the missing vault was created: %v", err)
	}
	v, err := f.Open(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("not created: %v", err)
	}
	if _, err := (&cmdenv.Vault{DSN: path}).Open(t.Context(), false); !errors.Is(err, cmdenv.ErrUsage) {
		t.Fatalf("no instance: %v", err)
	}
}

// TestCheckSpeaksTheSystemsLanguage: before a vault is open, its own language setting is out of
// reach: a missing --vault or --instance is said in the system's language.
func TestCheckSpeaksTheSystemsLanguage(t *testing.T) {
	for _, c := range []struct {
		lang string
		v    cmdenv.Vault
		want string
	}{
		{"fr_FR.UTF-8", cmdenv.Vault{}, "pas de coffre"},
		{"fr_FR.UTF-8", cmdenv.Vault{DSN: "v.db"}, "pas d'instance"},
		{"C", cmdenv.Vault{}, "no vault: give --vault"},
		{"en_GB.UTF-8", cmdenv.Vault{DSN: "v.db"}, "no instance: give --instance"},
	} {
		t.Setenv("LANGUAGE", "")
		t.Setenv("LC_ALL", "")
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		err := c.v.Check()
		if !errors.Is(err, cmdenv.ErrUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LANG=%s, %+v: Check() = %v, want bad usage saying %q", c.lang, c.v, err, c.want)
		}
	}
}
