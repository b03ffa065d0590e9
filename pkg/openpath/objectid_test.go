package openpath

import (
	"testing"
	"time"
)

func TestObjectIDTime(t *testing.T) {
	for _, c := range []struct {
		id   string
		want time.Time
		ok   bool
	}{
		// A getTrips id of the shared samples: processed on 2020-08-19.
		{"5f3c8a756fdd48393e79ac94", time.Date(2020, 8, 19, 2, 12, 5, 0, time.UTC), true},
		{"5F3C8A756FDD48393E79AC94", time.Date(2020, 8, 19, 2, 12, 5, 0, time.UTC), true},
		{"000000000000000000000000", time.Unix(0, 0).UTC(), true},
		{"5f3c8a756fdd48393e79ac9", time.Time{}, false},   // 23 digits
		{"5f3c8a756fdd48393e79ac9z", time.Time{}, false},  // not hex
		{"openpath-5f3c8a756fdd4839", time.Time{}, false}, // not an ObjectId
		{"", time.Time{}, false},
	} {
		got, ok := ObjectIDTime(c.id)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("ObjectIDTime(%q) = %v, %v; want %v, %v", c.id, got, ok, c.want, c.ok)
		}
	}
}
