package webapp

import (
	"fmt"
	"html/template"
	"math"
	"strings"

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

// routeMap draws the sections' tracks, coloured by mode (modes[i] is section i's), in the Web
// Mercator projection fitted to the box. With a tile server (the person's setting; none by
// default), the map tiles under the route are drawn too: the page's CSP allows that server for
// images.
func routeMap(title string, sections []trip.Section, modes []trip.Mode, tileServer string) template.HTML {
	type line struct {
		pts  []trip.Point
		mode trip.Mode
	}
	var lines []line
	minLon, minLat, maxLon, maxLat := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i, s := range sections {
		var l line
		if i < len(modes) {
			l.mode = modes[i]
		}
		for _, pos := range s.Track.Positions() {
			if math.Abs(pos.Lat) > 85 { // beyond Web Mercator
				continue
			}
			l.pts = append(l.pts, pos.Point)
			minLon, maxLon = math.Min(minLon, pos.Lon), math.Max(maxLon, pos.Lon)
			minLat, maxLat = math.Min(minLat, pos.Lat), math.Max(maxLat, pos.Lat)
		}
		lines = append(lines, l)
	}
	const w, h, margin = 640.0, 400.0, 24.0
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="map" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title><rect width="100%%" height="100%%" class="map-bg"/>`, w, h, esc(title), esc(title))
	if math.IsInf(minLon, 0) {
		sb.WriteString(`</svg>`)
		return template.HTML(sb.String())
	}
	// World pixel coordinates at zoom 0 (256 px for the world), then the largest zoom that fits.
	merc := func(lon, lat float64) (float64, float64) {
		s := math.Sin(lat * math.Pi / 180)
		return 256 * (lon + 180) / 360, 256 * (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi))
	}
	x0, y1 := merc(minLon, minLat)
	x1, y0 := merc(maxLon, maxLat)
	zoom := 18.0
	for zoom > 0 && ((x1-x0)*math.Exp2(zoom) > w-2*margin || (y1-y0)*math.Exp2(zoom) > h-2*margin) {
		zoom--
	}
	scale := math.Exp2(zoom)
	cx, cy := (x0+x1)/2*scale, (y0+y1)/2*scale // the box's centre in world pixels at zoom
	project := func(p trip.Point) (float64, float64) {
		x, y := merc(p.Lon, p.Lat)
		return x*scale - cx + w/2, y*scale - cy + h/2
	}
	if tileServer != "" {
		n := int(scale)
		for ty := int(math.Floor((cy - h/2) / 256)); float64(ty*256) < cy+h/2; ty++ {
			for tx := int(math.Floor((cx - w/2) / 256)); float64(tx*256) < cx+w/2; tx++ {
				if ty < 0 || ty >= n {
					continue
				}
				url := strings.NewReplacer("{z}", fmt.Sprint(int(zoom)), "{x}", fmt.Sprint(((tx%n)+n)%n), "{y}", fmt.Sprint(ty)).Replace(tileServer)
				fmt.Fprintf(&sb, `<image href="%s" x="%.1f" y="%.1f" width="256" height="256"/>`, esc(url), float64(tx*256)-cx+w/2, float64(ty*256)-cy+h/2)
			}
		}
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
