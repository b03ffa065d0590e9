// Package basemap serves an offline base map: a raster MBTiles file (an SQLite database of map
// tiles, https://github.com/mapbox/mbtiles-spec) that the person downloads once. The web app
// serves its tiles from its own origin, so that drawing a map sends no request anywhere.
package basemap

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" driver: pure Go
)

// DefaultAttribution is shown when the file's metadata names none: most raster extracts are
// OpenStreetMap's.
const DefaultAttribution = "© OpenStreetMap contributors"

// ErrNoTile is returned for a tile the file does not have. It matches fs.ErrNotExist, so that
// a server of tiles can tell it apart without importing this package (and SQLite).
var ErrNoTile = fmt.Errorf("basemap: no such tile: %w", fs.ErrNotExist)

// MBTiles is an open raster MBTiles file, read only. It is safe for concurrent use.
type MBTiles struct {
	db *sql.DB
	// Format is the tiles' image format: "png", "jpg" or "webp".
	Format string
	// Attribution is the map data's attribution, to show on every map.
	Attribution string
	// MinZoom and MaxZoom are the zoom levels the file has tiles for.
	MinZoom, MaxZoom int
}

// Open opens the MBTiles file at path, read only (the file is never written, not even a
// journal), and checks that it holds raster tiles.
func Open(ctx context.Context, path string) (*MBTiles, error) {
	if !filepath.IsAbs(path) || !strings.EqualFold(filepath.Ext(path), ".mbtiles") {
		return nil, fmt.Errorf("basemap: %q: want the absolute path of a .mbtiles file", path)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: "mode=ro&immutable=1"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("basemap: open %s: %w", path, err)
	}
	m := &MBTiles{db: db, Attribution: DefaultAttribution}
	if err := m.load(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("basemap: %s: %w", path, err)
	}
	return m, nil
}

// load reads the metadata and the zoom range.
func (m *MBTiles) load(ctx context.Context) error {
	rows, err := m.db.QueryContext(ctx, `SELECT name, value FROM metadata`)
	if err != nil {
		return fmt.Errorf("not an MBTiles file (no metadata table): %w", err)
	}
	defer rows.Close()
	meta := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		meta[k] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	switch f := strings.ToLower(meta["format"]); f {
	case "png", "webp":
		m.Format = f
	case "jpg", "jpeg":
		m.Format = "jpg"
	case "pbf":
		return errors.New("vector tiles (pbf) are not supported: use a raster MBTiles file (png, jpg or webp)")
	default:
		return fmt.Errorf("unknown tile format %q: want png, jpg or webp", meta["format"])
	}
	if a := strings.TrimSpace(meta["attribution"]); a != "" {
		m.Attribution = a
	}
	var lo, hi sql.NullInt64
	if err := m.db.QueryRowContext(ctx, `SELECT min(zoom_level), max(zoom_level) FROM tiles`).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("not an MBTiles file (no tiles table): %w", err)
	}
	if !lo.Valid {
		return errors.New("the file holds no tile")
	}
	m.MinZoom, m.MaxZoom = int(lo.Int64), int(hi.Int64)
	// The metadata's range, when narrower, is what the file promises to cover.
	if z, err := strconv.Atoi(meta["maxzoom"]); err == nil && z < m.MaxZoom && z >= m.MinZoom {
		m.MaxZoom = z
	}
	return nil
}

// ContentType is the tiles' media type.
func (m *MBTiles) ContentType() string {
	switch m.Format {
	case "jpg":
		return "image/jpeg"
	case "webp":
		return "image/webp"
	}
	return "image/png"
}

// Tile returns the image of tile x, y at zoom z, numbered as web maps number them (y from the
// north); MBTiles stores rows from the south (TMS). It returns ErrNoTile for a tile the file
// does not have.
func (m *MBTiles) Tile(ctx context.Context, z, x, y int) ([]byte, error) {
	if z < 0 || z > 30 || x < 0 || y < 0 || x >= 1<<z || y >= 1<<z {
		return nil, ErrNoTile
	}
	var data []byte
	err := m.db.QueryRowContext(ctx, `SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?`,
		z, x, (1<<z)-1-y).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoTile
	}
	if err != nil {
		return nil, fmt.Errorf("basemap: tile %d/%d/%d: %w", z, x, y, err)
	}
	return data, nil
}

// Layer returns what a map drawn over these tiles needs: the tiles' format (their file
// extension), the deepest zoom level and the attribution.
func (m *MBTiles) Layer() (format string, maxZoom int, attribution string) {
	return m.Format, m.MaxZoom, m.Attribution
}

// Close closes the file.
func (m *MBTiles) Close() error { return m.db.Close() }
