package connectorui_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/ui/connectorui"
)

var account = &accounts.Account{ID: "acc-1", Auth: accounts.Auth{Login: "pixel", Password: "secret-token", ServerURL: "https://op.example.org"}}

func TestSyncedText(t *testing.T) {
	var out bytes.Buffer
	sum := tripsync.Summary{Fetched: 5, Created: 3, Updated: 1, Unchanged: 1, Failed: 1, ToRetry: 2, LabelsApplied: 4, LabelsPending: 1, Partial: true,
		Errors: []tripsync.TripError{{Kind: tripsync.ErrorTrip, TripID: "t9", Error: "no sections"}}}
	if err := connectorui.New(&out, nil, false).Synced(account, sum, openpath.Stats{}, errors.New("shown by main")); err != nil {
		t.Fatal(err)
	}
	want := "account acc-1 (pixel): 5 trips fetched: 3 created, 1 updated, 1 unchanged, 0 merged with an earlier copy, 1 could not be kept; " +
		"2 to retry; 4 labels applied, 1 waiting (time budget reached: the next run resumes)\n  trip t9: no sections\n"
	if out.String() != want {
		t.Fatalf("text summary:\n%q\nwant\n%q", out.String(), want)
	}
}

func TestSyncedJSON(t *testing.T) {
	var out bytes.Buffer
	p := connectorui.New(&out, nil, true)
	if err := p.Synced(account, tripsync.Summary{Fetched: 2, Created: 2}, openpath.Stats{}, errors.New("server down")); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["trips_fetched"] != 2.0 || got["created"] != 2.0 || got["error"] != "server down" || got["requests"] == nil {
		t.Fatalf("JSON summary %s", out.String())
	}
	if strings.Contains(out.String(), "secret-token") {
		t.Fatal("the token shows")
	}
}

// The summaries of accounts synced at once come out whole, one JSON object a line.
func TestConcurrentSummaries(t *testing.T) {
	var out bytes.Buffer
	p := connectorui.New(&out, nil, true)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			errs := make([]tripsync.TripError, 50)
			for j := range errs {
				errs[j] = tripsync.TripError{Kind: tripsync.ErrorTrip, TripID: strings.Repeat("x", i), Error: "bad"}
			}
			if err := p.Synced(account, tripsync.Summary{Fetched: i, Errors: errs}, openpath.Stats{}, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 20 {
		t.Fatalf("%d lines for 20 summaries", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("a summary is cut: %.80s", l)
		}
	}
}

func TestStatusAndAccounts(t *testing.T) {
	a := *account
	a.Data.Retry = []accounts.RetryTrip{{Day: "2024-05-02", StartTS: 1714636800, Since: "2024-05-03T00:00:00Z", Attempts: 2}}
	row := connectorui.NewStatusRow(a, tripsync.DeviceReport{Trips: 7, PossibleDuplicates: [][2]string{{"t1", "t2"}}})
	var out bytes.Buffer
	if err := connectorui.New(&out, nil, false).Status([]connectorui.StatusRow{row}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ACCOUNT", "acc-1", "never", "account acc-1: trip to retry: the trip of 2024-05-02 starting at 2024-05-02T08:00:00Z (missing since 2024-05-03T00:00:00Z, asked 2 times)",
		"account acc-1: possible duplicate: trips t1 and t2 overlap in time"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := connectorui.New(&out, nil, true).Accounts(nil); err != nil || out.String() != "[]\n" {
		t.Fatalf("no account as JSON: %q, %v", out.String(), err)
	}
	out.Reset()
	if err := connectorui.New(&out, nil, true).Accounts([]accounts.Account{a}); err != nil ||
		out.String() != `[{"id":"acc-1","device":"pixel","server":"https://op.example.org"}]`+"\n" {
		t.Fatalf("accounts as JSON: %q, %v", out.String(), err)
	}
}
