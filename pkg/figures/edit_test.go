package figures_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
)

// TestRecurringPurposeRespectsAndUndoes: a recurring trip's purpose reaches only the similar
// trips whose purpose neither the person nor their phone gave; Preview says exactly which before
// anything changes; unmarking the trip as recurring takes the copies back; and a purpose copied
// before this rule existed never hides the phone's.
func TestRecurringPurposeRespectsAndUndoes(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := tripsDB(t, b)
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			// Six trips with the same ends: the source, two free, one the phone labelled, one the
			// person set, one an older copy overrode the phone's label on.
			ids := []string{"source", "free-1", "free-2", "phone", "person", "old-copy"}
			for i, id := range ids {
				doc := makeTrip(t, [3]any{"MotionTypes.IN_VEHICLE", 3000.0, 600.0})
				doc.ID = id
				doc.Server.StartTS += float64(i * 86400)
				switch id {
				case "phone":
					doc.Labels.Purpose = &trip.Label{Value: "work"}
				case "person":
					_ = doc.SetManual(trip.Manual{Purpose: trip.Sport, PurposeFrom: "user"})
				case "old-copy":
					doc.Labels.Purpose = &trip.Label{Value: "work"}
					_ = doc.SetManual(trip.Manual{Purpose: trip.Entertainment, PurposeFrom: "recurring"})
				}
				if _, err := db.Put(ctx, doc.ID, doc); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := figures.Refresh(ctx, db, in, false); err != nil {
				t.Fatal(err)
			}
			purposes := func() map[string]trip.Purpose {
				t.Helper()
				got := map[string]trip.Purpose{}
				if _, err := figures.Refresh(ctx, db, in, false); err != nil {
					t.Fatal(err)
				}
				err := figures.EachCached(ctx, db, func(id string, c figures.Cached) error { got[id] = c.Purpose; return nil })
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			before := purposes()
			if before["old-copy"] != trip.Commute {
				t.Errorf("an older copy hides the phone's purpose: %s", before["old-copy"])
			}
			shopping, yes := trip.Shopping, true
			edit := figures.Edit{Purpose: &shopping, Recurring: &yes}
			preview, err := figures.Preview(ctx, db, "source", edit)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"free-1", "free-2"}; !slices.Equal(preview, want) {
				t.Fatalf("preview %v, want %v", preview, want)
			}
			if got := purposes(); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Fatalf("the preview changed purposes: %v, was %v", got, before)
			}
			changed, err := figures.Apply(ctx, db, "source", edit)
			if err != nil || !slices.Equal(changed, preview) {
				t.Fatalf("apply: %v, %v; want %v", changed, err, preview)
			}
			after := purposes()
			want := map[string]trip.Purpose{"source": trip.Shopping, "free-1": trip.Shopping, "free-2": trip.Shopping,
				"phone": trip.Commute, "person": trip.Sport, "old-copy": trip.Commute}
			if fmt.Sprint(after) != fmt.Sprint(want) {
				t.Fatalf("after the edit: %v, want %v", after, want)
			}
			if got, _ := figures.Propagated(ctx, db, "source"); !slices.Equal(got, preview) {
				t.Errorf("propagated from source: %v", got)
			}
			// Undo: the trip is no longer recurring and the copies go.
			no := false
			if _, err := figures.Apply(ctx, db, "source", figures.Edit{Recurring: &no}); err != nil {
				t.Fatal(err)
			}
			after = purposes()
			want["free-1"], want["free-2"] = before["free-1"], before["free-2"]
			if fmt.Sprint(after) != fmt.Sprint(want) {
				t.Fatalf("after undoing: %v, want %v", after, want)
			}
		})
	}
}
