package webapp

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/trip"
)

// TestRouteMapDrawsEachSectionsTrack: one line per section with positions, in its mode's colour,
// from the valid positions of its track only (none beyond Web Mercator's 85°), start and end
// marked; a trip without positions is an empty map.
func TestRouteMapDrawsEachSectionsTrack(t *testing.T) {
	doc := &trip.Doc{ID: "t", Series: []json.RawMessage{json.RawMessage(`{"type": "FeatureCollection", "features": [
		{"type": "Feature", "properties": {"feature_type": "start_place"}},
		{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString",
			"coordinates": [[-1.15, 46.16], [-1.14, 89], ["x", 46], [-1.14, 46.15, 3]]}}]},
		{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString",
			"coordinates": [[-1.14, 46.15], [-1.12, 46.14]]}}]}]}`)}}
	sections, err := doc.Sections()
	if err != nil {
		t.Fatal(err)
	}
	svg := string(routeMap("Route", sections, []trip.Mode{trip.Bicycling, trip.Bus}, ""))
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Fatalf("%d lines, want one per section:\n%s", n, svg)
	}
	for _, want := range []string{`stroke="` + modeColor(trip.Bicycling) + `"`, `stroke="` + modeColor(trip.Bus) + `"`,
		`<title>BICYCLING</title>`, `<title>BUS</title>`, `class="start"`, `class="end"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %s in\n%s", want, svg)
		}
	}
	first := svg[strings.Index(svg, `<polyline points="`)+len(`<polyline points="`):]
	if pts := strings.Fields(first[:strings.Index(first, `"`)]); len(pts) != 2 {
		t.Errorf("first section drawn through %v, want its two valid positions below 85°", pts)
	}
	empty := string(routeMap("Route", []trip.Section{{}}, nil, ""))
	if strings.Contains(empty, "<polyline") || !strings.HasSuffix(empty, "</svg>") {
		t.Errorf("a trip without positions: %s", empty)
	}
}
