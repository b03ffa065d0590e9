package tripgen

import (
	"math"
	"math/rand/v2"
)

const earthRadius = 6371000.0 // meters, the mean radius e-mission uses

// Haversine returns the great-circle distance in meters between two points given in degrees.
func Haversine(lon1, lat1, lon2, lat2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}

func dist(a, b Place) float64 { return Haversine(a.Lon, a.Lat, b.Lon, b.Lat) }

// offset moves p by north and east meters.
func offset(p Place, north, east float64) Place {
	const rad = math.Pi / 180
	p.Lat += north / earthRadius / rad
	p.Lon += east / (earthRadius * math.Cos(p.Lat*rad)) / rad
	return p
}

// jitter moves p by up to r meters in a random direction.
func jitter(rng *rand.Rand, p Place, r float64) Place {
	a := rng.Float64() * 2 * math.Pi
	d := r * math.Sqrt(rng.Float64())
	return offset(p, d*math.Sin(a), d*math.Cos(a))
}

// wiggle returns a path from a to b through a few waypoints pushed sideways, the shape of a street
// or road route: spread is the sideways deviation as a fraction of the distance.
func wiggle(rng *rand.Rand, a, b Place, spread float64, waypoints int) []Place {
	d := dist(a, b)
	path := make([]Place, 0, waypoints+2)
	path = append(path, a)
	// Unit vectors along and across a→b, in meters.
	north := (b.Lat - a.Lat) * math.Pi / 180 * earthRadius
	east := (b.Lon - a.Lon) * math.Pi / 180 * earthRadius * math.Cos(a.Lat*math.Pi/180)
	norm := math.Hypot(north, east)
	if norm == 0 {
		return append(path, b)
	}
	side := rng.NormFloat64() // one dominant side, as real routes bend one way
	for i := 1; i <= waypoints; i++ {
		f := (float64(i) + (rng.Float64()-0.5)*0.6) / float64(waypoints+1)
		p := Place{Lon: a.Lon + (b.Lon-a.Lon)*f, Lat: a.Lat + (b.Lat-a.Lat)*f}
		bend := math.Sin(math.Pi*f) * (side*0.7 + rng.NormFloat64()*0.5) * spread * d
		p = offset(p, -east/norm*bend, north/norm*bend)
		path = append(path, p)
	}
	return append(path, b)
}

// motion describes how a mode moves along its path.
type motion struct {
	cruise    float64 // typical speed, m/s
	noise     float64 // relative spread of the speed from one 30 s step to the next
	stopProb  float64 // chance a step is mostly spent stopped (lights, bus stops)
	rampSteps int     // steps of slow motion at each end (trains and planes)
	rampSpeed float64 // speed during those steps
}

// sample is one resampled point of a section.
type sample struct {
	lon, lat float64
	ts       float64
	speed    float64 // m/s over the step that ends here
	distance float64 // m from the previous point
}

// drive moves along path from start at the given motion and returns the points every 30 s, as the
// e-mission pipeline resamples sections; the last point is the end of the path, less than 30 s after
// the one before it.
func drive(rng *rand.Rand, path []Place, start float64, m motion) []sample {
	const step = 30.0
	segLen := make([]float64, len(path)-1)
	var total float64
	for i := range segLen {
		segLen[i] = dist(path[i], path[i+1])
		total += segLen[i]
	}
	pts := make([]sample, 0, int(total/(m.cruise*step))+4)
	pts = append(pts, sample{lon: path[0].Lon, lat: path[0].Lat, ts: start})
	seg, along := 0, 0.0 // position: along meters into segment seg
	travelled := 0.0
	ts := start
	// Estimated number of steps, for the slow ends.
	nsteps := int(total/(m.cruise*step)) + 1
	for i := 0; travelled < total; i++ {
		v := m.cruise * (1 + m.noise*clamp(rng.NormFloat64(), -2, 2))
		if m.rampSteps > 0 && (i < m.rampSteps || i >= nsteps-m.rampSteps) {
			v = m.rampSpeed * (0.8 + 0.4*rng.Float64())
		} else if i > 0 && total-travelled > 2*v*step && rng.Float64() < m.stopProb {
			// Lights and stops, never on the first or last step.
			v *= 0.05 + 0.25*rng.Float64()
		}
		v = math.Max(v, 0.3)
		dt := step
		move := v * dt
		if travelled+move >= total {
			move = total - travelled
			dt = math.Max(1, move/v)
		}
		travelled += move
		along += move
		for seg < len(segLen)-1 && along > segLen[seg] {
			along -= segLen[seg]
			seg++
		}
		f := 1.0
		if segLen[seg] > 0 {
			f = math.Min(1, along/segLen[seg])
		}
		a, b := path[seg], path[seg+1]
		p := sample{lon: a.Lon + (b.Lon-a.Lon)*f, lat: a.Lat + (b.Lat-a.Lat)*f}
		if travelled >= total {
			p.lon, p.lat = path[len(path)-1].Lon, path[len(path)-1].Lat
		}
		prev := pts[len(pts)-1]
		ts += dt
		p.ts = ts
		p.distance = Haversine(prev.lon, prev.lat, p.lon, p.lat)
		p.speed = p.distance / dt
		pts = append(pts, p)
	}
	return pts
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }
