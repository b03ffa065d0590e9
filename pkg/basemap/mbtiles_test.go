package basemap_test

import (
	"bytes"
	"context"
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"github.com/coachco2/coachco2/pkg/basemap"
	"github.com/coachco2/coachco2/pkg/basemap/basemaptest"
)

// TestTilesReadOnly: a tile comes back from its web-map number (the file stores rows from the
// south), a missing one is ErrNoTile, the zoom range and attribution come from the file, and
// the file is never written.
func TestTilesReadOnly(t *testing.T) {
	ctx := context.Background()
	red, blue := basemaptest.PNG(t, color.RGBA{200, 0, 0, 255}), basemaptest.PNG(t, color.RGBA{0, 0, 200, 255})
	path := basemaptest.Write(t, "map.mbtiles", map[basemaptest.Tile][]byte{{Z: 3, X: 3, Y: 2}: red, {Z: 4, X: 7, Y: 5}: blue},
		map[string]string{"attribution": "© OpenStreetMap contributors, test extract"})
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := basemap.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if m.MinZoom != 3 || m.MaxZoom != 4 || m.ContentType() != "image/png" || m.Attribution != "© OpenStreetMap contributors, test extract" {
		t.Errorf("metadata: %+v", m)
	}
	if got, err := m.Tile(ctx, 4, 7, 5); err != nil || !bytes.Equal(got, blue) {
		t.Errorf("tile 4/7/5: %d bytes, %v", len(got), err)
	}
	for _, c := range [][3]int{{3, 3, 5}, {3, 8, 0}, {-1, 0, 0}, {5, 0, 0}} {
		if _, err := m.Tile(ctx, c[0], c[1], c[2]); !errors.Is(err, basemap.ErrNoTile) {
			t.Errorf("tile %v: %v, want ErrNoTile", c, err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("reading the tiles changed the file")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("files beside the map: %v", entries)
	}
}

// TestRefusesWhatIsNotARasterMap: a relative path, another extension, a missing file, vector
// tiles and a file that is not MBTiles are refused with a message saying what is wanted.
func TestRefusesWhatIsNotARasterMap(t *testing.T) {
	ctx := context.Background()
	vector := basemaptest.Write(t, "vector.mbtiles", map[basemaptest.Tile][]byte{{Z: 0, X: 0, Y: 0}: []byte("x")}, map[string]string{"format": "pbf"})
	notMap := filepath.Join(t.TempDir(), "notes.mbtiles")
	if err := os.WriteFile(notMap, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.mbtiles")
	for _, p := range []string{"map.mbtiles", filepath.Join(t.TempDir(), "map.db"), missing, vector, notMap} {
		if m, err := basemap.Open(ctx, p); err == nil {
			m.Close()
			t.Errorf("%s: opened", p)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("opening a missing file created it")
	}
}
