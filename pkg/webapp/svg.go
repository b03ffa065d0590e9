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

// yAxis is a chart's vertical axis: its unit and how its ticks are written.
type yAxis struct {
	Unit   string
	Format func(float64) string
	// Max fixes the axis' top (1 for shares); 0 rounds the largest value up.
	Max float64
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten, so that four ticks are round.
func niceCeil(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// Chart geometry: the plot's left margin holds the axis' ticks, its top the unit.
const chartW, chartH, chartLeft, chartTop, chartBottom = 640.0, 240.0, 56.0, 22.0, 28.0

// axis draws the vertical axis from 0 to top, with its unit, and returns the plot's height.
func (ax yAxis) draw(sb *strings.Builder, top float64) float64 {
	plotH := chartH - chartTop - chartBottom
	fmt.Fprintf(sb, `<text x="4" y="12" class="axis unit">%s</text>`, esc(ax.Unit))
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := chartTop + plotH*(1-float64(i)/4)
		fmt.Fprintf(sb, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="grid"/><text x="%.0f" y="%.1f" text-anchor="end" class="axis">%s</text>`,
			chartLeft, chartW, y, y, chartLeft-6, y+4, esc(ax.Format(v)))
	}
	return plotH
}

// columnChart draws vertical bars (the 12-month chart), over a y-axis with its unit.
func columnChart(title string, ax yAxis, bars []bar) template.HTML {
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.Value)
	}
	top := ax.Max
	if top == 0 {
		top = niceCeil(maxV)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title>`, chartW, chartH, esc(title), esc(title))
	plotH := ax.draw(&sb, top)
	n := float64(max(len(bars), 1))
	slot := (chartW - chartLeft) / n
	for i, b := range bars {
		bh := plotH * b.Value / top
		x := chartLeft + float64(i)*slot + slot*0.15
		fmt.Fprintf(&sb, `<g><title>%s: %s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`,
			esc(b.Label), esc(b.Text), x, chartTop+plotH-bh, slot*0.7, bh, b.Color)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" class="axis">%s</text></g>`, x+slot*0.35, chartH-8, esc(b.Label))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// series is one stacked part of every column: a mode's values over the months.
type series struct {
	Label  string
	Color  string
	Values []float64
	Texts  []string // the values as shown
}

// stackedChart draws one column per label (a month), each stacking the series' values, over a
// y-axis with its unit, and a legend of the series under it.
func stackedChart(title string, ax yAxis, labels []string, ss []series) template.HTML {
	maxV := 0.0
	for i := range labels {
		sum := 0.0
		for _, s := range ss {
			sum += s.Values[i]
		}
		maxV = math.Max(maxV, sum)
	}
	top := ax.Max
	if top == 0 {
		top = niceCeil(maxV)
	}
	legendRows := (len(ss) + 3) / 4
	height := chartH + 20*float64(legendRows)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title>`, chartW, height, esc(title), esc(title))
	plotH := ax.draw(&sb, top)
	slot := (chartW - chartLeft) / float64(max(len(labels), 1))
	for i, l := range labels {
		x := chartLeft + float64(i)*slot + slot*0.15
		y := chartTop + plotH
		sb.WriteString(`<g>`)
		for _, s := range ss {
			if !(s.Values[i] > 0) {
				continue
			}
			bh := plotH * s.Values[i] / top
			y -= bh
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
				x, y, slot*0.7, bh, s.Color, esc(l), esc(s.Label), esc(s.Texts[i]))
		}
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" class="axis">%s</text></g>`, x+slot*0.35, chartH-8, esc(l))
	}
	for i, s := range ss {
		x, y := chartLeft+float64(i%4)*(chartW-chartLeft)/4, chartH+8+20*float64(i/4)
		fmt.Fprintf(&sb, `<g class="legend"><rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/><text x="%.1f" y="%.1f" class="axis">%s</text></g>`,
			x, y, s.Color, x+16, y+10, esc(s.Label))
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

// baseLayer is the map under a route: a tile URL template ("" for the blank panel), the deepest
// zoom it has tiles for (deeper maps scale its tiles up) and the attribution to show.
type baseLayer struct {
	Template    string
	MaxZoom     int
	Attribution string
}

// routeMap draws the sections' tracks, coloured by mode (modes[i] is section i's), in the Web
// Mercator projection fitted to the box. With a base layer (the person's offline map served by
// the app, or their tile server; none by default), the map tiles under the route are drawn too,
// with the attribution: the page's CSP allows a tile server for images.
func routeMap(title string, sections []trip.Section, modes []trip.Mode, base baseLayer) template.HTML {
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
	if base.Template != "" {
		// Beyond the layer's deepest zoom, its tiles are drawn larger.
		tz := zoom
		if base.MaxZoom > 0 && tz > float64(base.MaxZoom) {
			tz = float64(base.MaxZoom)
		}
		size := 256 * math.Exp2(zoom-tz)
		n := int(math.Exp2(tz))
		for ty := int(math.Floor((cy - h/2) / size)); float64(ty)*size < cy+h/2; ty++ {
			for tx := int(math.Floor((cx - w/2) / size)); float64(tx)*size < cx+w/2; tx++ {
				if ty < 0 || ty >= n {
					continue
				}
				url := strings.NewReplacer("{z}", fmt.Sprint(int(tz)), "{x}", fmt.Sprint(((tx%n)+n)%n), "{y}", fmt.Sprint(ty)).Replace(base.Template)
				fmt.Fprintf(&sb, `<image href="%s" x="%.1f" y="%.1f" width="%.0f" height="%.0f"/>`, esc(url), float64(tx)*size-cx+w/2, float64(ty)*size-cy+h/2, size, size)
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
	if base.Attribution != "" {
		fmt.Fprintf(&sb, `<g class="attribution"><rect x="%.0f" y="%.0f" width="%.0f" height="18"/><text x="%.0f" y="%.0f" text-anchor="end">%s</text></g>`,
			w-260, h-18, 260.0, w-4, h-5, esc(base.Attribution))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

func esc(s string) string { return template.HTMLEscapeString(s) }
