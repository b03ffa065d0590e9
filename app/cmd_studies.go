package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/study"
)

func newStudiesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "studies",
		Short: "The research studies you have been offered: add a descriptor, list them",
	}
	cmd.AddCommand(newStudiesAddCmd(), newStudiesListCmd())
	return cmd
}

func newStudiesAddCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "add FILE|URL",
		Short: "Add a study descriptor (a JSON file, or the URL researchers publish it at)",
		Long: `Add a study descriptor to the vault, after checking it. A URL is fetched once, now, as your
explicit action; nothing is sent to the study until you consent ("app consent grant").`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.fill(cmd); err != nil {
				return err
			}
			raw, err := readDescriptor(cmd, args[0])
			if err != nil {
				return err
			}
			ws, err := f.openSharing(cmd.Context())
			if err != nil {
				return err
			}
			defer ws.Close()
			d, err := ws.sharing.AddStudy(cmd.Context(), raw)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added %s version %d: %s (%s)\nIt asks for: %s\nConsent with: app consent grant %s --measures %s\n",
				d.ID, d.Version, d.Title, d.Institution, measureList(d.Measures), d.ID, measureList(d.Measures))
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// readDescriptor reads a descriptor from a file, or fetches it from an http(s) URL.
func readDescriptor(cmd *cobra.Command, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "https://") && !strings.HasPrefix(src, "http://") {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("read the descriptor: %w", err)
		}
		return b, nil
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("descriptor URL: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the descriptor: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the descriptor: %s answered %s", src, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, study.MaxDescriptorBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch the descriptor: %w", err)
	}
	return b, nil
}

func measureList(ms []study.MeasureID) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ",")
}

func newStudiesListCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the studies in the vault, every version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.fill(cmd); err != nil {
				return err
			}
			ws, err := f.openSharing(cmd.Context())
			if err != nil {
				return err
			}
			defer ws.Close()
			studies, err := ws.sharing.Studies(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(studies) == 0 {
				fmt.Fprintln(out, "No study yet: add one with app studies add FILE|URL.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "STUDY\tVERSION\tTITLE\tINSTITUTION\tPERIOD\tK\tRETENTION\tMEASURES\tCOLLECTOR")
			for _, s := range studies {
				d := s.Descriptor
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s to %s\t%d\t%d months\t%s\t%s\n", d.ID, d.Version, d.Title, d.Institution,
					d.Period.From, d.Period.To, d.K, d.RetentionMonths, measureList(d.Measures), d.CollectorURL)
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	return cmd
}
