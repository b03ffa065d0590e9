package main

import (
	"fmt"
	"os"
	"time"

	"github.com/coachco2/coachco2/pkg/tripsync"
)

// progress shows a sync's progress on a terminal: one line rewritten in place. Elsewhere (a pipe,
// a log file, --json) it prints nothing; the engine's log lines say what happens.
type progress struct {
	out   *os.File
	on    bool
	start time.Time
}

func newProgress(out *os.File, quiet bool) *progress {
	return &progress{out: out, on: !quiet && isTerminal(out), start: time.Now()}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(s tripsync.Summary) {
	if !p.on {
		return
	}
	fmt.Fprintf(p.out, "\r\033[K%s  trips fetched %d · saved %d · unchanged %d · labels %d",
		time.Since(p.start).Round(time.Second), s.Fetched, s.Created+s.Updated, s.Unchanged, s.LabelsApplied)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.out, "\r\033[K")
	}
}
