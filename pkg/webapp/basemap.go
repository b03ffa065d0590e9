package webapp

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// BaseMap is an open offline base map, as pkg/basemap's MBTiles reads one. The web app takes it
// through Options.OpenBaseMap, so that a program without offline maps (the Cozy app's engine)
// does not link their reader and SQLite.
type BaseMap interface {
	// Tile returns the image of tile x, y at zoom z (y from the north), or an error matching
	// fs.ErrNotExist when the map does not have it.
	Tile(ctx context.Context, z, x, y int) ([]byte, error)
	// ContentType is the tiles' media type.
	ContentType() string
	// Layer returns the tiles' format (their file extension), the deepest zoom level and the
	// attribution to show on every map.
	Layer() (format string, maxZoom int, attribution string)
	Close() error
}

// errNoOfflineMaps is the settings' answer to a base map file where the app reads none.
var errNoOfflineMaps = errors.New("offline base maps are not available in this app")

// offlineMap keeps the person's offline base map open while the setting names it.
type offlineMap struct {
	// open opens a map file; nil when the app reads none.
	open func(ctx context.Context, path string) (BaseMap, error)
	mu   sync.Mutex
	path string
	m    BaseMap
}

// get returns the open map of path (opening it, or closing the previous one, when the setting
// changed), nil when path is "".
func (o *offlineMap) get(ctx context.Context, path string) (BaseMap, error) {
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
	if o.open == nil {
		return nil, errNoOfflineMaps
	}
	m, err := o.open(ctx, path)
	if err != nil {
		return nil, err
	}
	o.m, o.path = m, path
	return m, nil
}

// check opens the map file at path and closes it: an error when it is no map the app can read.
func (o *offlineMap) check(ctx context.Context, path string) error {
	if o.open == nil {
		return errNoOfflineMaps
	}
	m, err := o.open(ctx, path)
	if err != nil {
		return err
	}
	return m.Close()
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
		_, maxZoom, attribution := m.Layer()
		return baseLayer{Template: "/tiles/{z}/{x}/{y}", MaxZoom: maxZoom, Attribution: attribution}
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
	format, _, _ := m.Layer()
	var zxy [3]int
	for i, k := range []string{"z", "x", "y"} {
		if zxy[i], err = strconv.Atoi(strings.TrimSuffix(r.PathValue(k), "."+format)); err != nil {
			http.NotFound(w, r)
			return
		}
	}
	data, err := m.Tile(r.Context(), zxy[0], zxy[1], zxy[2])
	switch {
	case errors.Is(err, fs.ErrNotExist):
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
