package connectorui

import (
	"encoding/json"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripsync"
)

// jsonPrinter prints one JSON value per result: a summary per account synced, an array for a
// list.
type jsonPrinter struct{ out *lockedWriter }

func (p jsonPrinter) encode(v any) error {
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	return json.NewEncoder(p.out.w).Encode(v)
}

// syncedJSON is an account's sync summary with the server's requests and the sync's error.
type syncedJSON struct {
	tripsync.Summary
	Requests openpath.Stats `json:"requests"`
	Error    string         `json:"error,omitempty"`
}

func (p jsonPrinter) Synced(_ *accounts.Account, sum tripsync.Summary, requests openpath.Stats, syncErr error) error {
	s := syncedJSON{Summary: sum, Requests: requests}
	if syncErr != nil {
		s.Error = syncErr.Error()
	}
	return p.encode(s)
}

// Progress is off: the output is for a program, and the log lines say what happens.
func (p jsonPrinter) Progress() Progress { return noProgress{} }

func (p jsonPrinter) Status(rows []StatusRow) error { return p.encode(rows) }

func (p jsonPrinter) Accounts(list []accounts.Account) error { return p.encode(accountRows(list)) }
