package figures_test

import (
	"fmt"
	"testing"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/settings"
)

// TestRefreshDoesNotReadBackItsOwnWrites: the Refresh after the one that computed every trip's
// figures checks no trip, as the figures it wrote are current; a trip changed since is checked.
func TestRefreshDoesNotReadBackItsOwnWrites(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			const n = 450 // more than a batch
			for i := range n {
				doc := makeTrip(t, [3]any{"MotionTypes.IN_VEHICLE", float64(1000 * (i + 1)), 600.0})
				doc.Server.StartTS += float64(i * 3600)
				doc.ID = fmt.Sprintf("trip-%03d", i)
				if _, err := db.Put(ctx, doc.ID, doc); err != nil {
					t.Fatal(err)
				}
			}
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			res, err := figures.Refresh(ctx, db, in, false)
			if err != nil || res.Recomputed != n {
				t.Fatalf("first refresh: %+v, %v; want %d recomputed", res, err, n)
			}
			res, err = figures.Refresh(ctx, db, in, false)
			if err != nil || res.Checked != 0 || res.Recomputed != 0 {
				t.Fatalf("second refresh: %+v, %v; want nothing checked", res, err)
			}
			doc := makeTrip(t, [3]any{"MotionTypes.BICYCLING", 2000.0, 600.0})
			doc.ID = "trip-new"
			if _, err := db.Put(ctx, doc.ID, doc); err != nil {
				t.Fatal(err)
			}
			res, err = figures.Refresh(ctx, db, in, false)
			if err != nil || res.Checked != 1 || res.Recomputed != 1 {
				t.Fatalf("refresh after a new trip: %+v, %v; want it alone checked and recomputed", res, err)
			}
			res, err = figures.Refresh(ctx, db, in, false)
			if err != nil || res.Checked != 0 {
				t.Fatalf("refresh after that: %+v, %v; want nothing checked", res, err)
			}
		})
	}
}
