package connectorui

import (
	"bytes"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripsync"
)

// textPrinter prints for a person, in their language: sentences and aligned tables.
type textPrinter struct {
	w        *lockedWriter
	progress *os.File
	l        *i18n.Printer
}

// write writes what fill writes as one piece.
func (p textPrinter) write(fill func(b *bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := fill(&b); err != nil {
		return err
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	_, err := p.w.w.Write(b.Bytes())
	return err
}

// Synced prints the summary line and the trips that could not be kept; the error is main's to
// print.
func (p textPrinter) Synced(a *accounts.Account, sum tripsync.Summary, _ openpath.Stats, _ error) error {
	return p.write(func(b *bytes.Buffer) error {
		fmt.Fprintln(b, p.l.T("cli.sync.summary", a.ID, a.Auth.Login, sum.Fetched, sum.Created, sum.Updated, sum.Unchanged, sum.Merged, sum.Failed, sum.ToRetry,
			sum.LabelsApplied, sum.LabelsPending, partialNote(p.l, sum)))
		for _, e := range sum.Errors {
			fmt.Fprintf(b, "  %s %s: %s\n", e.Kind, e.TripID, e.Error)
		}
		return nil
	})
}

func partialNote(l *i18n.Printer, s tripsync.Summary) string {
	switch {
	case s.DryRun:
		return l.T("cli.sync.dryRun")
	case s.Partial:
		return l.T("cli.sync.partial")
	}
	return ""
}

func (p textPrinter) Progress() Progress { return newProgress(p.progress, p.l) }

func (p textPrinter) Status(rows []StatusRow) error {
	return p.write(func(b *bytes.Buffer) error {
		tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, p.l.T("cli.status.header"))
		for _, r := range rows {
			last, status, lastErr := p.l.T("cli.status.never"), "-", ""
			if r.LastRun != nil {
				last, status, lastErr = r.LastRun.End, r.LastRun.Status, r.LastRun.Error
			}
			upTo := "-"
			if r.Cursor.Trips > 0 {
				upTo = time.Unix(int64(r.Cursor.Trips), 0).UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.ID, r.Device, r.Trips, last, status, upTo, r.LabelsWaiting,
				len(r.ToRetry), len(r.PossibleDuplicates), lastErr)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, r := range rows {
			for _, m := range r.ToRetry {
				fmt.Fprintln(b, p.l.T("cli.status.retry", r.ID, m.Day, time.Unix(int64(m.StartTS), 0).UTC().Format(time.RFC3339), m.Since, m.Attempts))
			}
			for _, d := range r.PossibleDuplicates {
				fmt.Fprintln(b, p.l.T("cli.status.duplicate", r.ID, d[0], d[1]))
			}
		}
		return nil
	})
}

func (p textPrinter) Accounts(list []accounts.Account) error {
	return p.write(func(b *bytes.Buffer) error {
		tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, p.l.T("cli.accounts.header"))
		for _, r := range accountRows(list) {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Device, r.Server)
		}
		return tw.Flush()
	})
}
