package webapp

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/trip"
)

// Charts and maps are SVG drawn on the server: no chart library, no script, no third party; each
// has a text alternative and its data is also in a table next to it.

// groupColors colour modes by group.
var groupColors = map[trip.Group]string{
	trip.GroupWalking: "#2e7d32", trip.GroupBike: "#00897b", trip.GroupCar: "#c62828",
	trip.GroupTransit: "#1565c0", trip.GroupPlane: "#6a1b9a", trip.GroupUnknown: "#757575",
}

func modeColor(m trip.Mode) string { return groupColors[m.Group()] }

// bar is one bar of a chart.
type bar struct {
	Label string
	Value float64
	Text  string // the value as shown
	Color string
}

// columnChart draws vertical bars (the 12-month chart).
func columnChart(title string, bars []bar) template.HTML {
	const w, h, pad, top = 640.0, 220.0, 28.0, 16.0
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.Value)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title>`, w, h+pad, esc(title), esc(title))
	n := float64(max(len(bars), 1))
	slot := w / n
	for i, b := range bars {
		bh := 0.0
		if maxV > 0 {
			bh = (h - top) * b.Value / maxV
		}
		x := float64(i)*slot + slot*0.15
		fmt.Fprintf(&sb, `<g><title>%s: %s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`,
			esc(b.Label), esc(b.Text), x, h-bh, slot*0.7, bh, b.Color)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" class="axis">%s</text></g>`, x+slot*0.35, h+18, esc(b.Label))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// barChart draws horizontal bars (breakdowns by mode or purpose).
func barChart(title string, bars []bar) template.HTML {
	const w, row, labelW = 640.0, 34.0, 210.0
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.Value)
	}
	h := row * float64(max(len(bars), 1))
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title>`, w, h, esc(title), esc(title))
	for i, b := range bars {
		y := float64(i) * row
		bw := 0.0
		if maxV > 0 {
			bw = (w - labelW - 150) * b.Value / maxV
		}
		fmt.Fprintf(&sb, `<g><text x="0" y="%.1f" class="label">%s</text><rect x="%.0f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/><text x="%.1f" y="%.1f" class="label">%s</text></g>`,
			y+23, esc(b.Label), labelW, y+5, bw, row-10, b.Color, labelW+bw+6, y+23, esc(b.Text))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// routeMap draws a trip's sections from their geometry, coloured by mode, with no basemap:
// an equirectangular projection scaled by the cosine of the latitude, fitted to the box.
func routeMap(title string, series []byte, modes []trip.Mode) template.HTML {
	type line struct {
		pts  [][2]float64
		mode trip.Mode
	}
	var lines []line
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	i := 0
	for _, f := range gjson.GetBytes(series, "features").Array() {
		if f.Get("type").String() != "FeatureCollection" {
			continue
		}
		var l line
		if i < len(modes) {
			l.mode = modes[i]
		}
		i++
		for _, c := range f.Get("features.0.geometry.coordinates").Array() {
			xy := c.Array()
			if len(xy) < 2 {
				continue
			}
			p := [2]float64{xy[0].Float(), xy[1].Float()}
			l.pts = append(l.pts, p)
			minX, maxX = math.Min(minX, p[0]), math.Max(maxX, p[0])
			minY, maxY = math.Min(minY, p[1]), math.Max(maxY, p[1])
		}
		lines = append(lines, l)
	}
	const w, h, margin = 640.0, 400.0, 16.0
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="map" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title><rect width="100%%" height="100%%" class="map-bg"/>`, w, h, esc(title), esc(title))
	if math.IsInf(minX, 0) {
		sb.WriteString(`</svg>`)
		return template.HTML(sb.String())
	}
	kx := math.Cos((minY + maxY) / 2 * math.Pi / 180)
	spanX, spanY := math.Max((maxX-minX)*kx, 1e-6), math.Max(maxY-minY, 1e-6)
	scale := math.Min((w-2*margin)/spanX, (h-2*margin)/spanY)
	offX := (w - spanX*scale) / 2
	offY := (h - spanY*scale) / 2
	project := func(p [2]float64) (float64, float64) {
		return offX + (p[0]-minX)*kx*scale, h - offY - (p[1]-minY)*scale
	}
	for _, l := range lines {
		if len(l.pts) == 0 {
			continue
		}
		var pts []string
		for _, p := range l.pts {
			x, y := project(p)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		fmt.Fprintf(&sb, `<polyline points="%s" fill="none" stroke="%s" stroke-width="4" stroke-linejoin="round" stroke-linecap="round"><title>%s</title></polyline>`,
			strings.Join(pts, " "), modeColor(l.mode), esc(string(l.mode)))
	}
	first, last := lines[0].pts, lines[len(lines)-1].pts
	if len(first) > 0 && len(last) > 0 {
		x, y := project(first[0])
		fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="7" class="start"/>`, x, y)
		x, y = project(last[len(last)-1])
		fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="7" class="end"/>`, x, y)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

func esc(s string) string { return template.HTMLEscapeString(s) }
