// Package places is the geometry of a person's places: distances on the Earth, similar trips
// (for recurring purposes), home and work (set by the person or suggested from where they stay
// at night and on weekday afternoons) and home↔work commutes.
//
// It is pure: no I/O, no clock, no package-level state. Distances are great-circle distances
// (haversine) on a sphere of radius [EarthRadius], in meters; points are trip.Point, GeoJSON order
// (longitude, latitude) in degrees. Points are not expected to straddle the antimeridian: a
// cluster of stays there is split in two.
package places

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/coachco2/coachco2/pkg/trip"
)

// EarthRadius is the radius of the sphere distances are measured on, in meters: the mean radius
// of the WGS 84 ellipsoid (IUGG R1).
const EarthRadius = 6_371_008.8

// SimilarRadius is how close, in meters, the ends of two trips must be for the trips to be
// similar (see [Similar]); it is also the radius of a suggested place.
const SimilarRadius = 200.0

// CommuteRadius is how close, in meters, a trip's end must be to home or work to count as being
// there (see [IsCommute]). It is wider than [SimilarRadius] because people park or lock a bike
// some way from the door, and the phone notices a trip's end late.
const CommuteRadius = 300.0

// metersPerDegree is the length of one degree of latitude on the sphere (and of longitude at the
// equator).
const metersPerDegree = EarthRadius * math.Pi / 180

// Distance returns the great-circle distance in meters between a and b (haversine formula on a
// sphere of radius [EarthRadius]). It is NaN when a coordinate is NaN.
func Distance(a, b trip.Point) float64 {
	const rad = math.Pi / 180
	φ1, φ2 := a.Lat*rad, b.Lat*rad
	sinΔφ := math.Sin((φ2 - φ1) / 2)
	sinΔλ := math.Sin((b.Lon - a.Lon) * rad / 2)
	h := sinΔφ*sinΔφ + math.Cos(φ1)*math.Cos(φ2)*sinΔλ*sinΔλ
	return 2 * EarthRadius * math.Asin(math.Sqrt(min(h, 1)))
}

// near reports whether a and b are at most SimilarRadius apart (false for a NaN coordinate).
func near(a, b trip.Point) bool { return Distance(a, b) <= SimilarRadius }

// Similar reports whether trip a (from aStart to aEnd) and trip b are similar: each end of one is
// within [SimilarRadius] of an end of the other, in the same direction (start near start and end
// near end) or in the opposite one (start near end and end near start, the way back).
func Similar(aStart, aEnd, bStart, bEnd trip.Point) bool {
	return near(aStart, bStart) && near(aEnd, bEnd) || near(aStart, bEnd) && near(aEnd, bStart)
}

// Place is a place of the person's: their home or their work, as they set it or as suggested.
type Place struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
	// Label is the person's name for it ("Home", "Hôpital"...), empty when they gave none.
	Label string `json:"label,omitempty"`
}

// Point returns the place's position.
func (p *Place) Point() trip.Point { return trip.Point{Lon: p.Lon, Lat: p.Lat} }

// IsCommute reports whether a trip from start to end goes between home and work, either way: one
// end is within [CommuteRadius] of home and the other within CommuteRadius of work. Each end is
// taken to be at the nearer of the two places, so that when home and work are close together a
// round trip from home is not a commute. It is false when home or work is nil.
func IsCommute(start, end trip.Point, home, work *Place) bool {
	if home == nil || work == nil {
		return false
	}
	h, w := home.Point(), work.Point()
	s, e := at(start, h, w), at(end, h, w)
	return s != nowhere && e != nowhere && s != e
}

// where is one of the two places of a commute.
type where int

const (
	nowhere where = iota
	atHome
	atWork
)

// at tells whether p is at home or at work (the nearer of the two, home on a tie), or neither.
func at(p, home, work trip.Point) where {
	dh, dw := Distance(p, home), Distance(p, work)
	switch {
	case dh <= CommuteRadius && dh <= dw:
		return atHome
	case dw <= CommuteRadius:
		return atWork
	}
	return nowhere
}

// Candidate is a trip that a recurring purpose may propagate to.
type Candidate struct {
	ID         string
	Start, End trip.Point
}

// Propagate returns the ids of the candidates similar to source (see [Similar]), in the order of
// candidates. The caller leaves source itself out of candidates, as well as trips whose purpose
// the person set. It takes time linear in the number of candidates.
func Propagate(source Ends, candidates []Candidate) []string {
	var ids []string
	for _, c := range candidates {
		if Similar(source.Start, source.End, c.Start, c.End) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// ParseLatLon reads a place typed as "latitude,longitude" in degrees, e.g. "46.1591,-1.1517".
func ParseLatLon(s string) (*Place, error) {
	lat, lon, ok := strings.Cut(s, ",")
	la, err1 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
	lo, err2 := strconv.ParseFloat(strings.TrimSpace(lon), 64)
	if !ok || err1 != nil || err2 != nil || la < -90 || la > 90 || lo < -180 || lo > 180 {
		return nil, fmt.Errorf("%q: want latitude,longitude in degrees, e.g. 46.1591,-1.1517", s)
	}
	return &Place{Lat: la, Lon: lo}, nil
}
