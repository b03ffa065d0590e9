// Package connectorui is the connector's command-line output: each result as text for a person,
// or as JSON for a program. A command picks its [Printer] once, from --json ([New]); text.go
// writes the text, json.go the JSON, progress.go the progress line a sync shows on a terminal.
package connectorui

import (
	"io"
	"os"
	"sync"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripsync"
)

// Printer prints the results that the connector's commands give as text or, with --json, as
// JSON. It is safe for concurrent use: the summaries of accounts synced at once (sync --every)
// are printed whole, one after the other.
type Printer interface {
	// Synced prints an account's sync: its summary, the server's requests and the sync's error.
	Synced(a *accounts.Account, sum tripsync.Summary, requests openpath.Stats, syncErr error) error
	// Progress returns the progress line of a sync about to start.
	Progress() Progress
	// Status prints each account's state ("connector status").
	Status(rows []StatusRow) error
	// Accounts prints the accounts, never their tokens ("connector accounts list").
	Accounts(list []accounts.Account) error
}

// New returns the printer writing to out: JSON when asJSON, else text in English, with a
// progress line on progress when it is a terminal.
func New(out io.Writer, progress *os.File, asJSON bool) Printer {
	return NewIn(out, progress, asJSON, i18n.English)
}

// NewIn is [New] with the text in lang ("en" or "fr"); the JSON is the same in every language.
func NewIn(out io.Writer, progress *os.File, asJSON bool, lang string) Printer {
	w := &lockedWriter{w: out}
	if asJSON {
		return jsonPrinter{w}
	}
	return textPrinter{w: w, progress: progress, l: i18n.For(lang)}
}

// StatusRow is an account's state, as "connector status" shows it.
type StatusRow struct {
	ID            string                `json:"id"`
	Device        string                `json:"device"`
	Server        string                `json:"server"`
	Trips         int                   `json:"trips"`
	Cursor        accounts.Cursors      `json:"cursor"`
	LastRun       *accounts.Run         `json:"last_run"`
	LabelsWaiting int                   `json:"labels_waiting"`
	FailedTrips   []accounts.FailedTrip `json:"failed_trips"`
	// ToRetry are trips the server announced but has not sent yet.
	ToRetry []accounts.RetryTrip `json:"to_retry"`
	// PossibleDuplicates are pairs of trips that overlap in time (see tripsync.DeviceReport).
	PossibleDuplicates [][2]string `json:"possible_duplicates"`
}

// NewStatusRow is the state of account a, whose device's trips r reports on.
func NewStatusRow(a accounts.Account, r tripsync.DeviceReport) StatusRow {
	return StatusRow{ID: a.ID, Device: a.Auth.Login, Server: a.Auth.ServerURL, Trips: r.Trips, Cursor: a.Data.Cursors,
		LastRun: a.Data.LastRun, LabelsWaiting: len(a.Data.PendingLabels), FailedTrips: a.Data.FailedTrips,
		ToRetry: a.Data.Retry, PossibleDuplicates: r.PossibleDuplicates}
}

// accountRow is an account in "connector accounts list".
type accountRow struct {
	ID     string `json:"id"`
	Device string `json:"device"`
	Server string `json:"server"`
}

func accountRows(list []accounts.Account) []accountRow {
	rows := make([]accountRow, len(list))
	for i, a := range list {
		rows[i] = accountRow{a.ID, a.Auth.Login, a.Auth.ServerURL}
	}
	return rows
}

// lockedWriter makes each result one write at a time: a printer writes a result under the lock.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}
