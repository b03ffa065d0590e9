package webapp

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coachco2/coachco2/pkg/basemap"
)

// offlineMap keeps the person's offline base map open while the setting names it.
type offlineMap struct {
	mu   sync.Mutex
	path string
	m    *basemap.MBTiles
}

// get returns the open map of path (opening it, or closing the previous one, when the setting
// changed), nil when path is "".
func (o *offlineMap) get(ctx context.Context, path string) (*basemap.MBTiles, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if path == o.path && o.m != nil {
		return o.m, nil
	}
	if o.m != nil {
		_ = o.m.Close()
		o.m, o.path = nil, ""
	}
	if path == "" {
		return nil, nil
	}
	m, err := basemap.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	o.m, o.path = m, path
	return m, nil
}

// Close closes the open map, if any.
func (o *offlineMap) Close() error {
	_, err := o.get(context.Background(), "")
	return err
}

// baseLayer is the map under the routes: the offline map served at /tiles/, else the tile
// server, else none (the blank panel).
func (s *Server) baseLayer(ctx context.Context) baseLayer {
	st := s.coach.Settings()
	if st.BaseMap != "" {
		m, err := s.offline.get(ctx, st.BaseMap)
		if err != nil {
			s.opts.Logger.Error("offline base map", "error", err)
			return baseLayer{}
		}
		return baseLayer{Template: "/tiles/{z}/{x}/{y}", MaxZoom: m.MaxZoom, Attribution: m.Attribution}
	}
	return baseLayer{Template: st.TileServer}
}

// tile serves a tile of the offline base map, from the app's own origin.
func (s *Server) tile(w http.ResponseWriter, r *http.Request) {
	m, err := s.offline.get(r.Context(), s.coach.Settings().BaseMap)
	if err != nil || m == nil {
		http.NotFound(w, r)
		return
	}
	var zxy [3]int
	for i, k := range []string{"z", "x", "y"} {
		if zxy[i], err = strconv.Atoi(strings.TrimSuffix(r.PathValue(k), "."+m.Format)); err != nil {
			http.NotFound(w, r)
			return
		}
	}
	data, err := m.Tile(r.Context(), zxy[0], zxy[1], zxy[2])
	switch {
	case errors.Is(err, basemap.ErrNoTile):
		http.NotFound(w, r)
		return
	case err != nil:
		s.opts.Logger.Error("offline base map", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", m.ContentType())
	w.Header().Set("Cache-Control", "private, max-age=86400")
	_, _ = w.Write(data)
}
