package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/ui/appui"
)

func newStudiesCmd() *cobra.Command {
	return cmdenv.Group("studies", "The research studies you have been offered: add a descriptor, list them",
		newStudiesAddCmd(), newStudiesListCmd())
}

func newStudiesAddCmd() *cobra.Command {
	var raw []byte
	return sharingCommand(&cobra.Command{
		Use:   "add FILE|URL",
		Short: "Add a study descriptor (a JSON file, or the URL researchers publish it at)",
		Long: `Add a study descriptor to the vault, after checking it. A URL is fetched once, now, as your
explicit action; nothing is sent to the study until you consent ("app consent grant").`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) (err error) {
			raw, err = readDescriptor(cmd.Context(), args[0])
			return err
		},
	}, func(cmd *cobra.Command, _ []string, ws *sharingWorkspace) error {
		d, err := ws.sharing.AddStudy(cmd.Context(), raw)
		if err != nil {
			return err
		}
		appui.StudyAdded(cmd.OutOrStdout(), cliLang(ws.workspace), d)
		return nil
	})
}

// readDescriptor reads a descriptor from a file, or fetches it from an http(s) URL.
func readDescriptor(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "https://") && !strings.HasPrefix(src, "http://") {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envLang().T("cli.err.readDescriptor"), err)
		}
		return b, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("descriptor URL: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envLang().T("cli.err.fetchDescriptor"), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s answered %s", envLang().T("cli.err.fetchDescriptor"), src, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, study.MaxDescriptorBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envLang().T("cli.err.fetchDescriptor"), err)
	}
	return b, nil
}

func newStudiesListCmd() *cobra.Command {
	return sharingCommand(&cobra.Command{
		Use:   "list",
		Short: "List the studies in the vault, every version",
		Args:  cobra.NoArgs,
	}, func(cmd *cobra.Command, _ []string, ws *sharingWorkspace) error {
		studies, err := ws.sharing.Studies(cmd.Context())
		if err != nil {
			return err
		}
		return appui.Studies(cmd.OutOrStdout(), cliLang(ws.workspace), studies)
	})
}
