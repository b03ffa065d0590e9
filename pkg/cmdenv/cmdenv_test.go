package cmdenv_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
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
