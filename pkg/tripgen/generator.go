package tripgen

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
	_ "time/tzdata" // Europe/Paris must load without a system zoneinfo (CGO_ENABLED=0 images).

	"github.com/coachco2/coachco2/pkg/openpath"
)

// TimeZone is the zone of every generated user.
const TimeZone = "Europe/Paris"

// Generator builds users and their trips from a [Config]. It is immutable after [New] and safe for
// concurrent use.
type Generator struct {
	cfg   Config
	loc   *time.Location
	users []Profile
}

// Profile is one synthetic user: where they live and work and how they usually move.
type Profile struct {
	// Index is the user's position, 0-based; Token is their devserver token ("user001", ...).
	Index int
	Token string
	// UUID is their e-mission user id (32 hex digits).
	UUID string
	// Home and Work are their two main places.
	Home, Work Place
	// Commute is their usual commute mode, AltCommute the one they use on some days.
	Commute, AltCommute Mode
	// HasCar says whether a car is available for errands and outings.
	HasCar bool
	// LeaveHome and LeaveWork are their usual departure times, as time since local midnight.
	LeaveHome, LeaveWork time.Duration

	walkSpeed, bikeSpeed, carSpeed, busSpeed  float64
	eBike                                     bool
	labelRate, lunchRate, shopRate, nightRate float64
	calendar                                  []dayPlan
}

// dayPlan is what kind of day a user has.
type dayPlan struct {
	kind dayKind
	dest int // train trip or flight destination index
}

type dayKind uint8

const (
	dayNormal dayKind = iota
	dayTrain
	dayFlightOut
	dayAway
	dayFlightBack
)

// New validates cfg and builds the users' profiles (cheap: trips are built on demand by Day).
func New(cfg Config) (*Generator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart()
	}
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		return nil, fmt.Errorf("tripgen: loading time zone %s: %w", TimeZone, err)
	}
	g := &Generator{cfg: cfg, loc: loc, users: make([]Profile, cfg.Users)}
	for i := range g.users {
		g.users[i] = g.newProfile(i)
	}
	return g, nil
}

// Config returns the generator's configuration, Start filled in.
func (g *Generator) Config() Config { return g.cfg }

// Location returns the users' time zone.
func (g *Generator) Location() *time.Location { return g.loc }

// Users returns the users' profiles, in a new slice.
func (g *Generator) Users() []Profile {
	out := make([]Profile, len(g.users))
	copy(out, g.users)
	for i := range out {
		out[i].calendar = nil
	}
	return out
}

// Date returns the local date of day (0-based).
func (g *Generator) Date(day int) openpath.Date { return g.cfg.Start.AddDays(day) }

// stream derives an independent random stream from the seed: one per user profile (day -1) and one
// per user day.
func (g *Generator) stream(user, day int) *rand.Rand {
	s := splitmix(uint64(g.cfg.Seed))
	return rand.New(rand.NewPCG(splitmix(s^uint64(user+1)*0x9e3779b97f4a7c15), splitmix(uint64(day+2)^s<<1)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (g *Generator) newProfile(i int) Profile {
	rng := g.stream(i, -1)
	homes, works := homeAreas(), workPlaces()
	p := Profile{Index: i, Token: fmt.Sprintf("user%03d", i+1)}
	var id [16]byte
	for j := range id {
		id[j] = byte(rng.Uint32())
	}
	p.UUID = hex.EncodeToString(id[:])
	p.Home = jitter(rng, homes[rng.IntN(len(homes))], 400)
	for try := 0; ; try++ {
		p.Work = jitter(rng, works[rng.IntN(len(works))], 150)
		if dist(p.Home, p.Work) >= 900 || try > 20 {
			break
		}
	}
	p.Home.Name = "Home, " + p.Home.Name
	p.HasCar = rng.Float64() < 0.8
	d := dist(p.Home, p.Work) / 1000
	pick := func(choices ...struct {
		m Mode
		w float64
	}) Mode {
		r := rng.Float64()
		for _, c := range choices {
			if r < c.w {
				return c.m
			}
			r -= c.w
		}
		return choices[len(choices)-1].m
	}
	type mw = struct {
		m Mode
		w float64
	}
	switch {
	case d < 1.6:
		p.Commute = pick(mw{Walking, 0.55}, mw{Bicycling, 0.4}, mw{Car, 0.05})
	case d < 4:
		p.Commute = pick(mw{Bicycling, 0.45}, mw{Bus, 0.2}, mw{Car, 0.25}, mw{Walking, 0.1})
	case d < 8:
		p.Commute = pick(mw{Bicycling, 0.3}, mw{Bus, 0.25}, mw{Car, 0.45})
	default:
		p.Commute = pick(mw{Car, 0.6}, mw{Bus, 0.2}, mw{Bicycling, 0.2})
	}
	if p.Commute == Walking && d > 2.6 {
		p.Commute = Bicycling
	}
	if p.Commute == Car && !p.HasCar {
		p.Commute = Bus
	}
	switch p.Commute {
	case Car:
		p.AltCommute = pick(mw{Bus, 0.5}, mw{Bicycling, 0.5})
	case Bicycling:
		p.AltCommute = Bus
		if d < 2.4 {
			p.AltCommute = Walking
		} else if p.HasCar && rng.Float64() < 0.5 {
			p.AltCommute = Car
		}
	case Bus:
		p.AltCommute = Bicycling
		if p.HasCar && rng.Float64() < 0.5 {
			p.AltCommute = Car
		}
	default:
		p.AltCommute = Bicycling
	}
	p.LeaveHome = 7*time.Hour + 15*time.Minute + time.Duration(rng.IntN(95))*time.Minute
	p.LeaveWork = p.LeaveHome + 8*time.Hour + 30*time.Minute + time.Duration(rng.IntN(60))*time.Minute
	p.walkSpeed = 1.15 + 0.35*rng.Float64()
	p.bikeSpeed = 3.8 + 1.7*rng.Float64()
	p.eBike = rng.Float64() < 0.15
	if p.eBike {
		p.bikeSpeed += 1
	}
	p.carSpeed = 8 + 3*rng.Float64()
	p.busSpeed = 5.5 + 2*rng.Float64()
	p.labelRate = 0.15 + 0.65*rng.Float64()
	p.lunchRate = 0.3 * rng.Float64()
	p.shopRate = 0.05 + 0.2*rng.Float64()
	p.nightRate = 0.1 + 0.3*rng.Float64()
	p.calendar = g.newCalendar(rng, i)
	return p
}

// newCalendar places the user's train days and trips away by plane over the configured days.
// Every third user (the second, the fifth, ...) flies, and a few others do.
func (g *Generator) newCalendar(rng *rand.Rand, user int) []dayPlan {
	cal := make([]dayPlan, g.cfg.Days)
	if user%3 == 1 || rng.Float64() < 0.15 { // flies now and then
		for d := 5 + rng.IntN(60); d < g.cfg.Days; d += 60 + rng.IntN(80) {
			dest := rng.IntN(len(flightDestinations()))
			stay := 2 + rng.IntN(5)
			cal[d] = dayPlan{dayFlightOut, dest}
			for a := d + 1; a < d+stay && a < g.cfg.Days; a++ {
				cal[a] = dayPlan{dayAway, dest}
			}
			if d+stay < g.cfg.Days {
				cal[d+stay] = dayPlan{dayFlightBack, dest}
			}
			d += stay
		}
	}
	trainRate := 1.0 / 150
	if user%2 == 0 || rng.Float64() < 0.3 {
		trainRate = 1.0 / 25
	}
	for d := range cal {
		wd := g.weekday(d)
		if cal[d].kind == dayNormal && wd != time.Saturday && wd != time.Sunday && rng.Float64() < trainRate {
			dest := 0
			if rng.Float64() < 0.3 {
				dest = 1
			}
			cal[d] = dayPlan{dayTrain, dest}
		}
	}
	return cal
}

func (g *Generator) weekday(day int) time.Weekday {
	d := g.Date(day)
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, g.loc).Weekday()
}

// Day returns the trips user (0-based) made on day (0-based from Config.Start), in time order. The
// trips are rebuilt from scratch at each call, identically. A trip that starts after local midnight
// belongs to the day its outing began: a Saturday night out comes home on Sunday's date, in
// Saturday's list. Out of range arguments give nil.
func (g *Generator) Day(user, day int) []Trip {
	if user < 0 || user >= len(g.users) || day < 0 || day >= g.cfg.Days {
		return nil
	}
	b := &dayBuilder{g: g, p: &g.users[user], rng: g.stream(user, day), day: day, date: g.Date(day)}
	b.plan()
	return b.realize()
}

// Trips calls fn with every trip of user, day by day, and stops early when fn returns false.
func (g *Generator) Trips(user int, fn func(day int, t *Trip) bool) {
	for d := 0; d < g.cfg.Days; d++ {
		trips := g.Day(user, d)
		for i := range trips {
			if !fn(d, &trips[i]) {
				return
			}
		}
	}
}

// leg is a planned trip: where to, how, and when the user would like to leave.
type leg struct {
	depart   float64 // wished departure, seconds since the epoch
	from, to Place
	mode     Mode
	purpose  string
	kind     legKind
	dest     int // train trip or flight destination
}

type legKind uint8

const (
	legPlain legKind = iota
	legTrainOut
	legTrainBack
	legFlight
)

type dayBuilder struct {
	g    *Generator
	p    *Profile
	rng  *rand.Rand
	day  int
	date openpath.Date
	legs []leg
}

// at returns the wished time h hours (fractional) after local midnight, as epoch seconds, respecting
// the wall clock on DST days.
func (b *dayBuilder) at(h float64) float64 {
	secs := h * 3600
	whole := math.Floor(secs)
	micros := int(math.Round((secs - whole) * 1e6))
	t := time.Date(b.date.Year, b.date.Month, b.date.Day, 0, 0, int(whole), micros*1000, b.g.loc)
	return float64(t.UnixMicro()) / 1e6
}

// around returns a wished time near h hours, spread by sd minutes, with a random fraction of a
// second as phones record.
func (b *dayBuilder) around(h, sdMinutes float64) float64 {
	return b.at(h + b.rng.NormFloat64()*sdMinutes/60 + b.rng.Float64()/3600)
}

func (b *dayBuilder) between(h1, h2 float64) float64 {
	return b.at(h1 + (h2-h1)*b.rng.Float64())
}

// add plans a leg, unless it is too short for the pipeline to see a trip (the same shopping centre
// as the workplace, a market round the corner).
func (b *dayBuilder) add(l leg) {
	if dist(l.from, l.to) < 400 {
		return
	}
	b.legs = append(b.legs, l)
}

func (b *dayBuilder) choose(places []Place) Place {
	return jitter(b.rng, places[b.rng.IntN(len(places))], 60)
}

// errandMode picks how the user goes somewhere d meters away outside commutes.
func (b *dayBuilder) errandMode(d float64) Mode {
	p, r := b.p, b.rng.Float64()
	bikes := p.Commute == Bicycling || p.AltCommute == Bicycling
	switch {
	case d < 1100:
		if r < 0.8 {
			return Walking
		}
		return Bicycling
	case d < 6000 && bikes && r < 0.7:
		return Bicycling
	case p.HasCar:
		return Car
	case d < 2200:
		return Walking
	case d < 12000 && r < 0.4:
		return Bicycling
	}
	return Bus
}

// roundTrip plans going to place at depart and coming home after a stay of stayH hours.
func (b *dayBuilder) roundTrip(place Place, depart, stayH float64, purpose string, mode Mode) {
	home := b.p.Home
	if mode == 0 {
		mode = b.errandMode(dist(home, place))
	}
	b.add(leg{depart: depart, from: home, to: place, mode: mode, purpose: purpose})
	back := mode
	b.add(leg{depart: depart + stayH*3600, from: place, to: home, mode: back, purpose: "home"})
}

func (b *dayBuilder) plan() {
	p, rng := b.p, b.rng
	cal := p.calendar[b.day]
	switch cal.kind {
	case dayAway:
		return
	case dayFlightOut:
		ap := airport()
		b.add(leg{depart: b.between(7, 14), from: p.Home, to: ap, mode: Car, purpose: "transit_transfer"})
		dest := flightDestinations()[cal.dest]
		b.add(leg{depart: 0, from: ap, to: dest, mode: AirOrHSR, purpose: "entertainment", kind: legFlight})
		return
	case dayFlightBack:
		ap := airport()
		dest := flightDestinations()[cal.dest]
		b.add(leg{depart: b.between(14, 18.5), from: dest, to: ap, mode: AirOrHSR, purpose: "home", kind: legFlight})
		b.add(leg{depart: 0, from: ap, to: p.Home, mode: Car, purpose: "home"})
		return
	case dayTrain:
		tt := trainTrips()[cal.dest]
		b.add(leg{depart: b.between(6.4, 7.6), from: p.Home, to: tt.meeting, purpose: "work", kind: legTrainOut, dest: cal.dest})
		b.add(leg{depart: b.between(16.5, 18.5), from: tt.meeting, to: p.Home, purpose: "home", kind: legTrainBack, dest: cal.dest})
		return
	}
	switch b.g.weekday(b.day) {
	case time.Saturday:
		if rng.Float64() < 0.6 {
			b.roundTrip(b.choose(leisurePlaces("market")), b.between(9, 11), 0.6+rng.Float64(), "shopping", 0)
		}
		if rng.Float64() < 0.4 {
			b.outing(b.between(14, 15.5))
		}
		if rng.Float64() < p.nightRate {
			place := b.choose(leisurePlaces("night"))
			d := dist(p.Home, place)
			mode := b.errandMode(d)
			if mode == Bus && d < 3000 {
				mode = Walking
			}
			b.add(leg{depart: b.between(19.8, 21.5), from: p.Home, to: place, mode: mode, purpose: "entertainment"})
			// Home after midnight more often than not: the trip starts on Sunday's local date.
			b.add(leg{depart: b.between(23.4, 25.6), from: place, to: p.Home, mode: mode, purpose: "home"})
		}
	case time.Sunday:
		if rng.Float64() < 0.2 {
			bakery := jitter(rng, p.Home, 700)
			bakery.Name = "Boulangerie près de chez soi"
			if dist(p.Home, bakery) < 150 {
				bakery = offset(p.Home, 350, 120)
				bakery.Name = "Boulangerie près de chez soi"
			}
			b.roundTrip(bakery, b.between(8.5, 10.5), 0.15+0.2*rng.Float64(), "shopping", Walking)
		}
		if rng.Float64() < 0.45 {
			b.outing(b.between(10.5, 15))
		}
		if rng.Float64() < 0.25 {
			park := leisurePlaces("beach")[3]
			b.roundTrip(park, b.between(16, 18), 0.8+rng.Float64(), "exercise", 0)
		}
	default:
		b.workday()
	}
}

// outing plans a leisure round trip: a beach or park nearby, or an excursion by car.
func (b *dayBuilder) outing(depart float64) {
	p, rng := b.p, b.rng
	if rng.Float64() < 0.6 || (!p.HasCar && p.Commute != Bicycling) {
		b.roundTrip(b.choose(leisurePlaces("beach")), depart, 1.5+2*rng.Float64(), "access_recreation", 0)
		return
	}
	place := b.choose(leisurePlaces("excursion"))
	mode := Car
	if !p.HasCar || (dist(p.Home, place) < 16000 && rng.Float64() < 0.35) {
		mode = Bicycling
	}
	b.roundTrip(place, depart, 2+2.5*rng.Float64(), "entertainment", mode)
}

func (b *dayBuilder) workday() {
	p, rng := b.p, b.rng
	if rng.Float64() < 0.07 { // a day off or working from home
		if rng.Float64() < 0.6 {
			b.roundTrip(b.choose(leisurePlaces("shop")), b.between(10, 16), 0.4+rng.Float64(), "shopping", 0)
		}
		return
	}
	mode := p.Commute
	switch r := rng.Float64(); {
	case r < 0.17:
		mode = p.AltCommute
	case r < 0.2 && p.HasCar:
		mode = Car
	}
	leave := b.around(p.LeaveHome.Hours(), 8)
	b.add(leg{depart: leave, from: p.Home, to: p.Work, mode: mode, purpose: "work"})
	if rng.Float64() < p.lunchRate {
		place := b.choose(leisurePlaces("meal"))
		d := dist(p.Work, place)
		lunchMode := Walking
		if d > 1500 {
			lunchMode = mode
			if mode == Bus || mode == Walking {
				lunchMode = 0
			}
		}
		if lunchMode != 0 {
			out := b.between(12, 12.5)
			b.add(leg{depart: out, from: p.Work, to: place, mode: lunchMode, purpose: "meal"})
			b.add(leg{depart: out + 3000 + 1800*rng.Float64(), from: place, to: p.Work, mode: lunchMode, purpose: "work"})
		}
	}
	back := b.around(p.LeaveWork.Hours(), 15)
	if rng.Float64() < p.shopRate {
		shop := b.choose(leisurePlaces("shop"))
		b.add(leg{depart: back, from: p.Work, to: shop, mode: mode, purpose: "shopping"})
		b.add(leg{depart: back + 900 + 1500*rng.Float64(), from: shop, to: p.Home, mode: mode, purpose: "home"})
	} else {
		b.add(leg{depart: back, from: p.Work, to: p.Home, mode: mode, purpose: "home"})
	}
	if rng.Float64() < 0.15 {
		b.roundTrip(b.choose(leisurePlaces("sport")), b.between(18.8, 20.5), 1+1.5*rng.Float64(), "exercise", 0)
	}
}

// realize turns the planned legs into trips: each leaves when wished or a few minutes after the
// previous trip arrived, whichever is later.
func (b *dayBuilder) realize() []Trip {
	if len(b.legs) == 0 {
		return nil
	}
	trips := make([]Trip, 0, len(b.legs))
	prevEnd := 0.0
	for _, l := range b.legs {
		minGap := 240 + 360*b.rng.Float64()
		if l.kind == legFlight && l.depart == 0 {
			minGap = 2400 + 1800*b.rng.Float64() // check-in
		}
		start := math.Max(l.depart, prevEnd+minGap)
		trips = append(trips, b.trip(l, start))
		prevEnd = trips[len(trips)-1].EndTS()
	}
	// Link places: a trip's end place is the next trip's start place.
	for i := range trips {
		t := &trips[i]
		if i == 0 {
			t.StartPlaceID = b.dawnPlaceID(b.day, t.StartTS())
		} else {
			t.StartPlaceID = trips[i-1].EndPlaceID
		}
		if i == len(trips)-1 {
			t.EndPlaceID = b.dawnPlaceID(b.day+1, t.EndTS())
		} else {
			t.EndPlaceID = b.id(t.ProcessedTS)
			t.NextTripID = trips[i+1].ID
			t.NextStart = trips[i+1].StartTS()
		}
	}
	return trips
}

// dawnPlaceID is the id of the place a user is at when day starts: the same whichever of the two
// days asks, so the last trip of a day and the first of the next share it.
func (b *dayBuilder) dawnPlaceID(day int, ts float64) string {
	s := splitmix(uint64(b.g.cfg.Seed)) ^ uint64(b.p.Index)<<20 ^ uint64(day)
	r := rand.New(rand.NewPCG(splitmix(s), splitmix(s+1)))
	return objectID(ts-3600, r)
}

// id returns a new ObjectId-like id created at ts.
func (b *dayBuilder) id(ts float64) string { return objectID(ts, b.rng) }

// objectID returns 24 hex digits shaped like a MongoDB ObjectId: 4 bytes of creation time, then 8
// random bytes.
func objectID(ts float64, rng *rand.Rand) string {
	var raw [12]byte
	t := uint32(ts)
	raw[0], raw[1], raw[2], raw[3] = byte(t>>24), byte(t>>16), byte(t>>8), byte(t)
	r := rng.Uint64()
	for i := 4; i < 12; i++ {
		raw[i] = byte(r >> (8 * (i - 4)))
	}
	return hex.EncodeToString(raw[:])
}

// trip builds the sections of a leg starting at start.
func (b *dayBuilder) trip(l leg, start float64) Trip {
	rng, p := b.rng, b.p
	t := Trip{From: l.from, To: l.to, Purpose: l.purpose, loc: b.g.loc}
	var parts []part
	switch l.kind {
	case legTrainOut, legTrainBack:
		tt := trainTrips()[l.dest]
		line := tt.line
		access := b.accessMode(dist(p.Home, station()))
		if l.kind == legTrainOut {
			parts = append(parts, b.ground(p.Home, jitter(rng, station(), 40), access)...)
			parts = append(parts, part{mode: Train, path: b.railPath(line), wait: 480 + 720*rng.Float64()})
			parts = append(parts, part{mode: Walking, path: b.streetPath(line[len(line)-1], tt.meeting, 0.15), wait: 120 + 180*rng.Float64()})
		} else {
			rev := make([]Place, len(line))
			for i := range line {
				rev[i] = line[len(line)-1-i]
			}
			parts = append(parts, part{mode: Walking, path: b.streetPath(tt.meeting, rev[0], 0.15)})
			parts = append(parts, part{mode: Train, path: b.railPath(rev), wait: 600 + 900*rng.Float64()})
			acc := b.ground(jitter(rng, station(), 40), p.Home, access)
			acc[0].wait = 120 + 240*rng.Float64()
			parts = append(parts, acc...)
		}
	case legFlight:
		// Walk from the terminal to the plane, fly, walk from the plane to the exit.
		from, to := l.from, l.to
		gate, landing := offset(from, 150+100*rng.Float64(), 80), jitter(rng, to, 300)
		parts = append(parts, part{mode: Walking, path: b.streetPath(from, gate, 0.3)})
		parts = append(parts, part{mode: AirOrHSR, path: wiggle(rng, offset(gate, 30, 30), landing, 0.02, 2), wait: 600 + 900*rng.Float64()})
		parts = append(parts, part{mode: Walking, path: b.streetPath(landing, jitter(rng, to, 80), 0.3), wait: 300 + 600*rng.Float64()})
	default:
		parts = b.ground(l.from, l.to, l.mode)
	}
	t.Sections = make([]Section, 0, len(parts))
	ts := start
	var lastEnd sample
	for i, pt := range parts {
		if i > 0 {
			ts += pt.wait
		}
		samples := drive(rng, pt.path, ts, b.motion(pt.mode, pt.path))
		if i > 0 {
			exit := samples[0]
			t.Stops = append(t.Stops, Stop{
				Enter:    Point{Lon: lastEnd.lon, Lat: lastEnd.lat, TS: lastEnd.ts},
				Exit:     Point{Lon: exit.lon, Lat: exit.lat, TS: exit.ts},
				Distance: Haversine(lastEnd.lon, lastEnd.lat, exit.lon, exit.lat),
			})
		}
		sec := Section{Mode: pt.mode, Points: make([]Point, len(samples))}
		for j, s := range samples {
			sec.Points[j] = Point{Lon: s.lon, Lat: s.lat, TS: s.ts, Speed: s.speed, Distance: s.distance}
			sec.Distance += s.distance
		}
		t.Sections = append(t.Sections, sec)
		lastEnd = samples[len(samples)-1]
		ts = lastEnd.ts
	}
	t.ProcessedTS = math.Round((t.EndTS()+600+3000*rng.Float64())*1e6) / 1e6
	t.ID = b.id(t.ProcessedTS)
	t.RawTripID = b.id(t.EndTS() + 60)
	for i := range t.Sections {
		t.Sections[i].ID = b.id(t.ProcessedTS)
	}
	for i := range t.Stops {
		t.Stops[i].ID = b.id(t.ProcessedTS)
	}
	b.labels(&t)
	return t
}

// part is a planned section: a mode along a path, after a wait at the previous section's end.
type part struct {
	mode Mode
	path []Place
	wait float64
}

// accessMode is how the user reaches the station.
func (b *dayBuilder) accessMode(d float64) Mode {
	switch {
	case d < 2000:
		return Walking
	case b.p.Commute == Bicycling && d < 7000:
		return Bicycling
	case b.p.HasCar && b.rng.Float64() < 0.5:
		return Car
	}
	return Bus
}

// ground plans a trip by road or street in one mode, with the walks around buses and car parks.
func (b *dayBuilder) ground(from, to Place, mode Mode) []part {
	rng := b.rng
	d := dist(from, to)
	switch mode {
	case Bus:
		if d < 1300 {
			return []part{{mode: Walking, path: b.streetPath(from, to, 0.15)}}
		}
		// Walk to a stop on the way, ride, walk from a stop near the destination.
		stopA := towards(from, to, 150+300*rng.Float64())
		stopA = jitter(rng, stopA, 60)
		stopB := towards(to, from, 150+300*rng.Float64())
		stopB = jitter(rng, stopB, 60)
		return []part{
			{mode: Walking, path: b.streetPath(from, stopA, 0.2)},
			{mode: Bus, path: b.roadPath(offset(stopA, 8, 5), stopB, 0.18), wait: 120 + 420*rng.Float64()},
			{mode: Walking, path: b.streetPath(offset(stopB, -6, 4), to, 0.2), wait: 20 + 40*rng.Float64()},
		}
	case Car:
		if rng.Float64() < 0.3 && d > 2500 {
			park := jitter(rng, towards(to, from, 120+200*rng.Float64()), 40)
			return []part{
				{mode: Car, path: b.roadPath(from, park, 0.12)},
				{mode: Walking, path: b.streetPath(offset(park, 5, 5), to, 0.2), wait: 30 + 90*rng.Float64()},
			}
		}
		return []part{{mode: Car, path: b.roadPath(from, to, 0.12)}}
	case Bicycling:
		return []part{{mode: Bicycling, path: b.roadPath(from, to, 0.1)}}
	}
	return []part{{mode: Walking, path: b.streetPath(from, to, 0.12)}}
}

// towards returns the point m meters from a in the direction of b (b itself if closer).
func towards(a, b Place, m float64) Place {
	d := dist(a, b)
	if d <= m || d == 0 {
		return b
	}
	f := m / d
	return Place{Lon: a.Lon + (b.Lon-a.Lon)*f, Lat: a.Lat + (b.Lat-a.Lat)*f}
}

func (b *dayBuilder) streetPath(from, to Place, spread float64) []Place {
	n := int(clamp(dist(from, to)/300, 1, 6))
	return wiggle(b.rng, from, to, spread, n)
}

// roadPath is a road route, over the bridge when one end is on Île de Ré.
func (b *dayBuilder) roadPath(from, to Place, spread float64) []Place {
	if onIleDeRe(from) != onIleDeRe(to) {
		br := reBridge()
		if onIleDeRe(from) {
			br[0], br[1] = br[1], br[0]
		}
		path := wiggle(b.rng, from, br[0], spread, int(clamp(dist(from, br[0])/800, 1, 8)))
		return append(path, wiggle(b.rng, br[1], to, spread, int(clamp(dist(br[1], to)/800, 1, 8)))...)
	}
	return wiggle(b.rng, from, to, spread, int(clamp(dist(from, to)/700, 1, 8)))
}

// railPath follows a railway line through its stations.
func (b *dayBuilder) railPath(line []Place) []Place {
	path := []Place{line[0]}
	for i := 1; i < len(line); i++ {
		seg := wiggle(b.rng, line[i-1], line[i], 0.03, 2)
		path = append(path, seg[1:]...)
	}
	return path
}

// motion returns how the user moves in mode over path.
func (b *dayBuilder) motion(mode Mode, path []Place) motion {
	p := b.p
	switch mode {
	case Walking:
		return motion{cruise: p.walkSpeed, noise: 0.1, stopProb: 0.03}
	case Bicycling:
		return motion{cruise: p.bikeSpeed, noise: 0.15, stopProb: 0.07}
	case Bus:
		return motion{cruise: p.busSpeed * 1.3, noise: 0.25, stopProb: 0.25}
	case Car:
		straight := dist(path[0], path[len(path)-1])
		if straight > 9000 {
			return motion{cruise: 17 + 4*b.rng.Float64(), noise: 0.2, stopProb: 0.04}
		}
		return motion{cruise: p.carSpeed * 1.2, noise: 0.3, stopProb: 0.15}
	case Train:
		for _, tt := range trainTrips() {
			last := tt.line[len(tt.line)-1]
			if path[0] == last || path[len(path)-1] == last {
				return motion{cruise: tt.cruise, noise: 0.06, rampSteps: 6, rampSpeed: 9}
			}
		}
		return motion{cruise: 30, noise: 0.06, rampSteps: 6, rampSpeed: 9}
	case AirOrHSR:
		return motion{cruise: 215, noise: 0.04, rampSteps: 8, rampSpeed: 45}
	}
	return motion{cruise: 1.3, noise: 0.1}
}

// labels lets the user label some trips, hours later, and correct a few labels days later.
func (b *dayBuilder) labels(t *Trip) {
	rng, p := b.rng, b.p
	if rng.Float64() >= p.labelRate {
		return
	}
	start := t.StartTS() + 40*rng.Float64()
	end := math.Max(start+1, t.EndTS()-15+75*rng.Float64())
	write := t.EndTS() + 3600 + 30*3600*rng.Float64()
	mode := b.modeLabel(t.MainMode())
	purpose := t.Purpose
	if purpose == "exercise" && rng.Float64() < 0.1 {
		purpose = "karate" // deployments have their own labels; they must survive
	}
	round := func(f float64) float64 { return math.Round(f*1e3) / 1e3 }
	t.Labels = append(t.Labels,
		Label{ID: b.id(write), Key: openpath.KeyModeConfirm, Value: mode, StartTS: round(start), EndTS: round(end), WriteTS: round(write)},
		Label{ID: b.id(write + 2.5), Key: openpath.KeyPurposeConfirm, Value: purpose, StartTS: round(start), EndTS: round(end), WriteTS: round(write + 2.5)})
	if rng.Float64() < 0.06 { // corrected later: the latest label wins
		later := write + 86400*(1+2*rng.Float64())
		fixed := map[string]string{"drove_alone": "shared_ride", "shared_ride": "drove_alone", "bike": "e-bike",
			"e-bike": "bike", "walk": "bike", "bus": "walk", "train": "bus", "air": "train"}[mode]
		t.Labels = append(t.Labels, Label{ID: b.id(later), Key: openpath.KeyModeConfirm, Value: fixed,
			StartTS: round(start), EndTS: round(end), WriteTS: round(later)})
	}
}

func (b *dayBuilder) modeLabel(m Mode) string {
	switch m {
	case Walking:
		return "walk"
	case Bicycling:
		if b.p.eBike {
			return "e-bike"
		}
		return "bike"
	case Bus:
		return "bus"
	case Train:
		return "train"
	case AirOrHSR:
		return "air"
	case Car:
		if b.rng.Float64() < 0.25 {
			return "shared_ride"
		}
		return "drove_alone"
	}
	return "other"
}
