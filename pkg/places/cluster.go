package places

import (
	"math"

	"github.com/coachco2/coachco2/pkg/trip"
)

// Finding the most frequent place among many weighted points (stays) without comparing every
// pair: the points are bucketed into a grid of cells about cellSize wide, each cell's support is
// the weight of the cells whose centroids lie within SimilarRadius of its own (at most 5×5 cells
// to look at), the cell of greatest support seeds a mean shift (move to the centroid of the points
// within SimilarRadius, repeat), and the cluster is the points within SimilarRadius of where it
// settles. Time and memory are linear in the number of points; the result depends only on the
// points and their order (ties go to the cell whose first point comes first), never on map
// iteration order.

// cellSize is the grid's cell size in meters: two cells either way cover SimilarRadius.
const cellSize = SimilarRadius / 2

// latStep is the height of a grid row in degrees of latitude.
const latStep = cellSize / metersPerDegree

// Mean shift stops when the center moves less than shiftTolerance meters, or after maxShifts moves.
const (
	shiftTolerance = 0.01
	maxShifts      = 20
)

// weighted is a point that counts w times (e.g. a stay of w nights).
type weighted struct {
	p trip.Point
	w int
}

type cellKey struct{ row, col int32 }

// cell is one grid cell: the indexes of its points and their weighted sums.
type cell struct {
	w        int
	lat, lon float64 // sums of w·lat and w·lon
	idx      []int
}

func (c *cell) centroid() trip.Point {
	return trip.Point{Lon: c.lon / float64(c.w), Lat: c.lat / float64(c.w)}
}

// grid buckets points by cell.
type grid struct {
	pts   []weighted
	cells map[cellKey]*cell
	order []*cell // in the order of their first point
}

// rowOf returns the grid row of a latitude.
func rowOf(lat float64) int32 { return int32(math.Floor(lat / latStep)) }

// lonStep returns the width in degrees of longitude of the cells of a row: at least cellSize
// meters at any latitude within three rows of it, so that every point within SimilarRadius of a
// point lies at most two rows and two columns away (columns counted in each row's own width).
func lonStep(row int32) float64 {
	edge := min((math.Abs(float64(row))+4)*latStep, 89)
	return latStep / math.Cos(edge*math.Pi/180)
}

func keyOf(p trip.Point) cellKey {
	row := rowOf(p.Lat)
	return cellKey{row, int32(math.Floor(p.Lon / lonStep(row)))}
}

// valid reports whether p is a position on the Earth (finite, latitude within ±90°, longitude
// within ±180°).
func valid(p trip.Point) bool {
	return math.Abs(p.Lat) <= 90 && math.Abs(p.Lon) <= 180 // false for NaN; ±Inf fail the bound
}

// newGrid buckets the points with a positive weight and a valid position.
func newGrid(pts []weighted) *grid {
	g := &grid{pts: pts, cells: make(map[cellKey]*cell)}
	for i, pt := range pts {
		if pt.w <= 0 || !valid(pt.p) {
			continue
		}
		k := keyOf(pt.p)
		c := g.cells[k]
		if c == nil {
			c = &cell{}
			g.cells[k] = c
			g.order = append(g.order, c)
		}
		c.w += pt.w
		c.lat += float64(pt.w) * pt.p.Lat
		c.lon += float64(pt.w) * pt.p.Lon
		c.idx = append(c.idx, i)
	}
	return g
}

// around calls fn, in a fixed order, for every non-empty cell that may hold points within
// SimilarRadius of p.
func (g *grid) around(p trip.Point, fn func(*cell)) {
	row := rowOf(p.Lat)
	for r := row - 2; r <= row+2; r++ {
		col := int32(math.Floor(p.Lon / lonStep(r)))
		for c := col - 2; c <= col+2; c++ {
			if x := g.cells[cellKey{r, c}]; x != nil {
				fn(x)
			}
		}
	}
}

// members returns the indexes of the points within SimilarRadius of center, their weight and
// their weighted centroid.
func (g *grid) members(center trip.Point) (idx []int, w int, mean trip.Point) {
	var lat, lon float64
	g.around(center, func(c *cell) {
		for _, i := range c.idx {
			pt := g.pts[i]
			if near(center, pt.p) {
				idx = append(idx, i)
				w += pt.w
				lat += float64(pt.w) * pt.p.Lat
				lon += float64(pt.w) * pt.p.Lon
			}
		}
	})
	if w > 0 {
		mean = trip.Point{Lon: lon / float64(w), Lat: lat / float64(w)}
	}
	return idx, w, mean
}

// densest finds the place where the points weigh most within SimilarRadius: it returns the
// cluster's weighted centroid and the indexes of its points (in no particular order); ok is false
// when no point has a positive weight.
func densest(pts []weighted) (center trip.Point, members []int, ok bool) {
	g := newGrid(pts)
	var best *cell
	bestSupport := 0
	for _, c := range g.order {
		cc, support := c.centroid(), 0
		g.around(cc, func(o *cell) {
			if near(cc, o.centroid()) {
				support += o.w
			}
		})
		if support > bestSupport { // strictly: on a tie the earlier cell stays
			best, bestSupport = c, support
		}
	}
	if best == nil {
		return trip.Point{}, nil, false
	}
	// Every point of the seed cell is within SimilarRadius of its centroid, so the cluster is
	// never empty.
	center = best.centroid()
	members, _, mean := g.members(center)
	for i := 0; i < maxShifts && Distance(mean, center) >= shiftTolerance; i++ {
		center = mean
		members, _, mean = g.members(center)
	}
	return mean, members, true
}
