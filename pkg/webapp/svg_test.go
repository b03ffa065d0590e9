package webapp

import (
	"encoding/json"
	"math"
	"strconv"
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
	svg := string(routeMap("Route", sections, []trip.Mode{trip.Bicycling, trip.Bus}, baseLayer{}))
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
	empty := string(routeMap("Route", []trip.Section{{}}, nil, baseLayer{}))
	if strings.Contains(empty, "<polyline") || !strings.HasSuffix(empty, "</svg>") {
		t.Errorf("a trip without positions: %s", empty)
	}
}

// TestChartsHaveAnAxisWithUnits: the column chart and the stacked chart draw a y-axis from 0
// to a round top with its unit, and the stacked chart's columns stack their series up to their
// sums, with a legend.
func TestChartsHaveAnAxisWithUnits(t *testing.T) {
	ax := yAxis{Unit: "kg CO2e", Format: func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }}
	svg := string(columnChart("CO2", ax, []bar{{Label: "01/25", Value: 3.2}, {Label: "02/25", Value: 7.9}}))
	for _, want := range []string{`class="axis unit">kg CO2e<`, `>0</text>`, `>5</text>`, `>10</text>`} {
		if !strings.Contains(svg, want) {
			t.Errorf("column chart: no %s in\n%s", want, svg)
		}
	}
	svg = string(stackedChart("km", yAxis{Unit: "km", Format: ax.Format}, []string{"01/25", "02/25"}, []series{
		{Label: "Bike", Color: "#0a0", Values: []float64{30, 0}, Texts: []string{"30", "0"}},
		{Label: "Car", Color: "#a00", Values: []float64{20, 45}, Texts: []string{"20", "45"}},
	}))
	for _, want := range []string{`class="axis unit">km<`, `>50</text>`, `01/25, Bike: 30`, `01/25, Car: 20`, `02/25, Car: 45`, `class="legend"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("stacked chart: no %s in\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "02/25, Bike") {
		t.Errorf("a zero part is drawn")
	}
	for v, want := range map[float64]float64{0: 1, 0.3: 0.5, 7.9: 10, 12: 20, 230: 250, 1000: 1000} {
		if got := niceCeil(v); math.Abs(got-want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", v, got, want)
		}
	}
}
