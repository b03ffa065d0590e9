package devserver

// Withhold makes getTrips leave out the trips with these ids while find_entries still announces
// them, as a server does while it is still writing a day's timeline, or when it serves a stale
// copy of it. Withhold() with no id serves every trip again.
func (s *Server) Withhold(tripIDs ...string) {
	w := make(map[string]bool, len(tripIDs))
	for _, id := range tripIDs {
		w[id] = true
	}
	s.mu.Lock()
	s.withheld = w
	s.mu.Unlock()
}

// withheldTrips returns the trips getTrips leaves out; the map is never changed in place.
func (s *Server) withheldTrips() map[string]bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.withheld
}
