package connectorui

import (
	"fmt"
	"os"
	"time"

	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/tripsync"
)

// Progress shows a sync's progress while it runs.
type Progress interface {
	// Update shows the summary so far (tripsync.Options.Progress).
	Update(tripsync.Summary)
	// Done clears what Update showed.
	Done()
}

// noProgress shows nothing.
type noProgress struct{}

func (noProgress) Update(tripsync.Summary) {}
func (noProgress) Done()                   {}

// terminalProgress is one line rewritten in place on a terminal.
type terminalProgress struct {
	out   *os.File
	start time.Time
	l     *i18n.Printer
}

// newProgress returns the progress line on out when it is a terminal; elsewhere (a pipe, a log
// file) it shows nothing, and the sync's log lines say what happens.
func newProgress(out *os.File, l *i18n.Printer) Progress {
	if out == nil || !isTerminal(out) {
		return noProgress{}
	}
	return &terminalProgress{out: out, start: time.Now(), l: l}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *terminalProgress) Update(s tripsync.Summary) {
	fmt.Fprintf(p.out, "\r\033[K%s  %s", time.Since(p.start).Round(time.Second), progressLine(p.l, s))
}

// progressLine is the progress line's text after the time elapsed.
func progressLine(l *i18n.Printer, s tripsync.Summary) string {
	return l.T("cli.sync.progress", s.Fetched, s.Created+s.Updated, s.Unchanged, s.LabelsApplied)
}

func (p *terminalProgress) Done() { fmt.Fprint(p.out, "\r\033[K") }
