package tripsync_test

import (
	"context"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// syncGenerated syncs the generated user001 of srv (already in e.server) and returns the summary
// and the requests the trip server answered.
func (e *env) syncGenerated(t *testing.T) (tripsync.Summary, int64) {
	t.Helper()
	ctx := context.Background()
	a, err := e.store.Get(ctx, e.account)
	if err != nil {
		t.Fatal(err)
	}
	client, err := openpath.New(e.http.URL, "user001")
	if err != nil {
		t.Fatal(err)
	}
	before := requestsOf(e.server)
	sum, err := e.engine.Sync(ctx, a, client, tripsync.Options{})
	if err != nil || len(sum.Errors) > 0 {
		t.Fatalf("sync: %v, %+v", err, sum)
	}
	addsUp(t, sum)
	return sum, requestsOf(e.server) - before
}

func requestsOf(srv *devserver.Server) int64 {
	n := int64(0)
	for _, r := range srv.Stats().Requests {
		n += r
	}
	return n
}

// A generated user's two years of trips and labels, from a current server (composite trips) and an
// old one (getTrips): every trip is written once, its labels with it, and from the current server
// in at most 5 requests per 1,000 trips. A second sync writes nothing.
func TestGeneratedUserSyncsInOnePass(t *testing.T) {
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 730, Seed: 5, Start: openpath.Date{Year: 2023, Month: 1, Day: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// The latest label of each key, by trip start, as the generator wrote them.
	want := map[float64]map[string]string{}
	labelled := 0
	gen.Trips(0, func(_ int, tr *tripgen.Trip) bool {
		if len(tr.Labels) > 0 {
			labelled++
			m := map[string]string{}
			at := map[string]float64{}
			for _, l := range tr.Labels {
				if l.WriteTS >= at[l.Key] {
					m[l.Key], at[l.Key] = l.Value, l.WriteTS
				}
			}
			want[tr.StartTS()] = m
		}
		return true
	})
	if labelled == 0 {
		t.Fatal("the generator labelled no trip")
	}
	for _, composite := range []bool{true, false} {
		name := "composite"
		if !composite {
			name = "getTrips"
		}
		t.Run(name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
				e := newEnv(t, b, nil)
				srv, err := devserver.New(devserver.Options{Seed: 1, TimelineOnly: !composite})
				if err != nil {
					t.Fatal(err)
				}
				srv.AddGenerated(gen)
				e.server = srv
				e.http.Config.Handler = srv
				sum, requests := e.syncGenerated(t)
				if sum.Created < 1000 || sum.LabelsPending != 0 || sum.LabelsApplied == 0 {
					t.Fatalf("summary %+v: want over 1,000 trips created, labels applied, none pending", sum)
				}
				perThousand := float64(requests) * 1000 / float64(sum.Created)
				t.Logf("%d trips, %d labelled, %d requests (%.1f per 1,000 trips)", sum.Created, labelled, requests, perThousand)
				if composite && perThousand > 5 {
					t.Errorf("%d requests for %d trips: %.1f per 1,000, want at most 5", requests, sum.Created, perThousand)
				}
				vault := e.snapshot()
				if len(vault) != sum.Created {
					t.Fatalf("%d trips in the vault, %d created", len(vault), sum.Created)
				}
				twice := 0
				for id, s := range vault {
					if !strings.HasPrefix(s.Rev, "1-") {
						twice++ // a label written in a later window than its trip's
					}
					got := map[string]string{}
					if s.Labels.Mode != nil {
						got[openpath.KeyModeConfirm] = s.Labels.Mode.Value
					}
					if s.Labels.Purpose != nil {
						got[openpath.KeyPurposeConfirm] = s.Labels.Purpose.Value
					}
					w := want[s.Server.StartTS]
					if len(got) != len(w) || got[openpath.KeyModeConfirm] != w[openpath.KeyModeConfirm] || got[openpath.KeyPurposeConfirm] != w[openpath.KeyPurposeConfirm] {
						t.Errorf("trip %s has labels %v, want %v", id, got, w)
					}
				}
				// Labels go with their trip; only one written in a later window than its trip's
				// updates it.
				if twice > labelled/50 {
					t.Errorf("%d of %d labelled trips written twice, want at most %d: labels should go with their trip", twice, labelled, labelled/50)
				}
				again, requests := e.syncGenerated(t)
				if again.Created+again.Updated != 0 || again.LabelsApplied != 0 {
					t.Errorf("a second sync wrote: %+v", again)
				}
				if composite && requests > 6 {
					t.Errorf("a second sync with nothing new took %d requests", requests)
				}
				for id, s := range e.snapshot() {
					if s.Rev != vault[id].Rev {
						t.Errorf("trip %s rewritten by a sync with nothing new", id)
					}
				}
			})
		})
	}
}
