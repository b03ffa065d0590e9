package tripsync_test

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// generatedTrips returns days of one generated user's timeline trips, as getTrips serves them.
func generatedTrips(t testing.TB, days int) []json.RawMessage {
	t.Helper()
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: days, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	gen.Trips(0, func(_ int, tr *tripgen.Trip) bool {
		out = append(out, tr.AppendGeoJSON(nil))
		return true
	})
	if len(out) == 0 {
		t.Fatal("the generator made no trip")
	}
	return out
}

// objectID is an ObjectId created at at; n tells ids of the same second apart.
func objectID(at time.Time, n uint64) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(at.Unix()))
	binary.BigEndian.PutUint64(b[4:], n)
	return hex.EncodeToString(b[:])
}

// processed rewrites a timeline trip as the server sends it after processing it at the time its
// id says: that id, the span [start, end] and the distance. Everything else is kept.
func processed(t testing.TB, raw json.RawMessage, id string, start, end time.Time, distance float64) json.RawMessage {
	t.Helper()
	var fc map[string]any
	if err := json.Unmarshal(raw, &fc); err != nil {
		t.Fatal(err)
	}
	p := fc["properties"].(map[string]any)
	p["start_ts"], p["end_ts"] = float64(start.Unix()), float64(end.Unix())
	p["start_fmt_time"], p["end_fmt_time"] = openpath.FormatTime(start), openpath.FormatTime(end)
	p["start_local_dt"], p["end_local_dt"] = openpath.NewLocalDate(start), openpath.NewLocalDate(end)
	p["duration"], p["distance"] = end.Sub(start).Seconds(), distance
	fc["id"] = id
	out, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reprocessedPair is a trip and a copy of it the server made by processing its day again: it
// starts 118 s away (re-segmented), ends at the same time, and is shorter. first is the copy whose
// start comes first; laterFirst says whether it is also the copy processed last.
type reprocessedPair struct {
	first, second json.RawMessage
	later         string // the trip id of the copy processed last
	earlier       string
}

// newPair builds a pair from a generated trip. With crossMidnight, the first copy starts on the
// evening before the second one's local date, so that getTrips gives them on two days.
func newPair(t testing.TB, base json.RawMessage, laterFirst, crossMidnight bool) reprocessedPair {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	p := gjson.GetBytes(base, "properties")
	start := openpath.TimeOf(p.Get("start_ts").Float()).In(paris)
	if crossMidnight {
		start = time.Date(start.Year(), start.Month(), start.Day(), 0, 1, 0, 0, paris) // the copy 118 s earlier starts the day before
	}
	end := start.Add(25 * time.Minute)
	processedAt := openpath.TimeOf(p.Get("end_ts").Float()).Add(time.Hour)
	idA, idB := objectID(processedAt, 1), objectID(processedAt.Add(24*time.Hour), 2)
	// a starts 118 s before b, both end together; b is 732 m long, a 582 m.
	a, b := idA, idB
	if laterFirst {
		a, b = idB, idA
	}
	pair := reprocessedPair{
		first:  processed(t, base, a, start.Add(-118*time.Second), end, 582),
		second: processed(t, base, b, start, end, 732),
		later:  idB, earlier: idA,
	}
	return pair
}

// tripsOf returns the vault's trips by id.
func tripsOf(t testing.TB, e *env) map[string]stored {
	t.Helper()
	return e.snapshot()
}

// oneCopy checks that the vault holds one trip for the pair, with the content of the copy the
// server processed last, and returns it.
func oneCopy(t testing.TB, e *env, pair reprocessedPair) stored {
	t.Helper()
	got := tripsOf(t, e)
	if len(got) != 1 {
		ids := []string{}
		for _, d := range got {
			ids = append(ids, d.Server.TripID)
		}
		t.Fatalf("%d trips in the vault (server ids %v), want 1: the two copies of one trip must be merged", len(got), ids)
	}
	for _, d := range got {
		if d.Server.TripID != pair.later {
			t.Fatalf("the vault keeps the copy %s, want the one processed last, %s", d.Server.TripID, pair.later)
		}
		return d
	}
	panic("unreachable")
}

// TestReprocessedCopiesAreOneTrip: a trip the server processed twice (new id, start 118 s away,
// another distance) is one trip in the vault, with the later processing's content, whether both
// copies come in one getTrips answer, in one window on two days, or in two runs, and whichever copy
// comes first.
func TestReprocessedCopiesAreOneTrip(t *testing.T) {
	base := generatedTrips(t, 3)[0]
	for _, laterFirst := range []bool{false, true} {
		order := "later processing second"
		if laterFirst {
			order = "later processing first"
		}
		t.Run("one answer/"+order, func(t *testing.T) {
			pair := newPair(t, base, laterFirst, false)
			if gjson.GetBytes(pair.first, "properties.start_local_dt.day").Int() != gjson.GetBytes(pair.second, "properties.start_local_dt.day").Int() {
				t.Fatal("test setup: the copies must start on the same local day")
			}
			forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
				e := newEnv(t, b, &devserver.UserData{Trips: []json.RawMessage{pair.first, pair.second}})
				sum := e.mustSync(tripsync.Options{})
				if sum.Fetched != 2 || sum.Created != 1 || sum.Merged != 1 {
					t.Fatalf("summary %+v: want 2 fetched, 1 created, 1 merged", sum)
				}
				oneCopy(t, e, pair)
			})
		})
		t.Run("one window/"+order, func(t *testing.T) {
			pair := newPair(t, base, laterFirst, true)
			if gjson.GetBytes(pair.first, "properties.start_local_dt.day").Int() == gjson.GetBytes(pair.second, "properties.start_local_dt.day").Int() {
				t.Fatal("test setup: the copies must start on two local days")
			}
			forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
				e := newEnv(t, b, &devserver.UserData{Trips: []json.RawMessage{pair.first, pair.second}})
				sum := e.mustSync(tripsync.Options{})
				if sum.Fetched != 2 || sum.Created != 1 || sum.Merged != 1 {
					t.Fatalf("summary %+v: want 2 fetched, 1 created, 1 merged", sum)
				}
				if n := e.server.Stats().Requests["/timeline/getTrips"]; n < 2 {
					t.Fatalf("%d getTrips requests: the copies were meant to come on two days", n)
				}
				oneCopy(t, e, pair)
			})
		})
		t.Run("two runs/"+order, func(t *testing.T) {
			pair := newPair(t, base, laterFirst, false)
			forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
				ctx := t.Context()
				e := newEnv(t, b, &devserver.UserData{Trips: []json.RawMessage{pair.first}})
				e.mustSync(tripsync.Options{})
				firstDoc := trip.DocID("phone-1", gjson.GetBytes(pair.first, "properties.start_ts").Float())
				// The person corrects the trip as it is in the vault after the first run.
				if _, err := vault.Update(ctx, e.trips, firstDoc, func(d *map[string]any, found bool) error {
					if !found {
						return fmt.Errorf("trip %s not in the vault", firstDoc)
					}
					(*d)["manual"] = map[string]any{"purpose": "SHOPPING"}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				// Then the server serves the other copy too.
				if err := e.server.SetUser(token, &devserver.UserData{Trips: []json.RawMessage{pair.first, pair.second}}); err != nil {
					t.Fatal(err)
				}
				sum := e.mustSync(tripsync.Options{Since: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
				if sum.Fetched != 2 || sum.Created != 0 || sum.Merged != 1 {
					t.Fatalf("second run %+v: want 2 fetched, none created, 1 merged", sum)
				}
				got := oneCopy(t, e, pair)
				if got.ID != firstDoc {
					t.Fatalf("the trip is now document %s, want %s (the vault's copy keeps its id)", got.ID, firstDoc)
				}
				if m := gjson.GetBytes(got.Manual, "purpose").String(); m != "SHOPPING" {
					t.Fatalf("the correction made on the earlier copy was lost: manual = %s", got.Manual)
				}
				// A third run changes nothing.
				sum = e.mustSync(tripsync.Options{Since: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
				if sum.Created+sum.Updated != 0 || sum.Unchanged != 1 || sum.Merged != 1 {
					t.Fatalf("third run %+v: want 1 unchanged, 1 merged, nothing written", sum)
				}
			})
		})
	}
}

// TestOverlappingCopiesArePossibleDuplicates: when the server re-processes a trip into one that
// overlaps it but differs by more than the slack (here trimmed by 5 minutes at each end), both are
// kept, no guess made, and Report names the pair.
func TestOverlappingCopiesArePossibleDuplicates(t *testing.T) {
	trips := generatedTrips(t, 3)
	base := trips[0]
	p := gjson.GetBytes(base, "properties")
	start, end := openpath.TimeOf(p.Get("start_ts").Float()), openpath.TimeOf(p.Get("end_ts").Float())
	if end.Sub(start) < 15*time.Minute {
		end = start.Add(20 * time.Minute)
		base = processed(t, base, gjson.GetBytes(base, "id").String(), start, end, p.Get("distance").Float())
	}
	later := end.Add(48 * time.Hour)
	trimmed := processed(t, base, objectID(later, 1), start.Add(5*time.Minute), end.Add(-5*time.Minute), 300)
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, &devserver.UserData{Trips: append([]json.RawMessage{base, trimmed}, trips[1:]...)})
		sum := e.mustSync(tripsync.Options{})
		if sum.Created != len(trips)+1 || sum.Merged != 0 {
			t.Fatalf("summary %+v: want every trip kept (%d)", sum, len(trips)+1)
		}
		report, err := e.engine.Report(t.Context(), "phone-1")
		if err != nil {
			t.Fatal(err)
		}
		dups := report.PossibleDuplicates
		if report.Trips != len(trips)+1 {
			t.Fatalf("report %+v: want %d trips", report, len(trips)+1)
		}
		want := [2]string{trip.DocID("phone-1", float64(start.Unix())), trip.DocID("phone-1", float64(start.Add(5*time.Minute).Unix()))}
		if len(dups) != 1 || dups[0] != want {
			t.Fatalf("possible duplicates %v, want only %v", dups, want)
		}
	})
}
