package openpath

import (
	"maps"
	"sync"
)

// RouteStats counts a client's traffic on one route.
type RouteStats struct {
	// Calls is how many times a method called the route.
	Calls int64
	// Requests is how many HTTP requests were sent, retries included.
	Requests int64
	// Retries is how many of those requests were retries.
	Retries int64
	// Failures is how many calls ended in an error.
	Failures int64
	// Items is how many entries or trips successful calls returned.
	Items int64
	// Bytes is how many answer bytes were read.
	Bytes int64
}

// Stats is a snapshot of a client's traffic, per route ([RouteGetTrips] counts all days).
type Stats struct {
	Routes map[Route]RouteStats
}

// Total sums the counters of all routes.
func (s Stats) Total() RouteStats {
	var t RouteStats
	for _, r := range s.Routes {
		t.Calls += r.Calls
		t.Requests += r.Requests
		t.Retries += r.Retries
		t.Failures += r.Failures
		t.Items += r.Items
		t.Bytes += r.Bytes
	}
	return t
}

// statsRecorder is the counters of one client.
type statsRecorder struct {
	mu     sync.Mutex
	routes map[Route]RouteStats
}

func (s *statsRecorder) update(route Route, f func(*RouteStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.routes == nil {
		s.routes = make(map[Route]RouteStats)
	}
	r := s.routes[route]
	f(&r)
	s.routes[route] = r
}

func (s *statsRecorder) call(route Route)    { s.update(route, func(r *RouteStats) { r.Calls++ }) }
func (s *statsRecorder) request(route Route) { s.update(route, func(r *RouteStats) { r.Requests++ }) }
func (s *statsRecorder) retry(route Route)   { s.update(route, func(r *RouteStats) { r.Retries++ }) }
func (s *statsRecorder) fail(route Route)    { s.update(route, func(r *RouteStats) { r.Failures++ }) }
func (s *statsRecorder) items(route Route, n int) {
	s.update(route, func(r *RouteStats) { r.Items += int64(n) })
}
func (s *statsRecorder) bytes(route Route, n int64) {
	s.update(route, func(r *RouteStats) { r.Bytes += n })
}

func (s *statsRecorder) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Routes: maps.Clone(s.routes)}
}
