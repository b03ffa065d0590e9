// Package basemaptest writes small raster MBTiles files for tests.
package basemaptest

import (
	"bytes"
	"database/sql"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// Tile is a tile's place, numbered as web maps number them (y from the north).
type Tile struct{ Z, X, Y int }

// PNG returns a 256×256 PNG tile of one colour, with a darker border.
func PNG(tb testing.TB, c color.RGBA) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			if x < 2 || y < 2 {
				img.Set(x, y, color.RGBA{c.R / 2, c.G / 2, c.B / 2, 255})
			} else {
				img.Set(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// Write writes an MBTiles file named name in a test directory, with these tiles and metadata
// (format png unless meta says otherwise), and returns its path.
func Write(tb testing.TB, name string, tiles map[Tile][]byte, meta map[string]string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	stmts := []string{
		`CREATE TABLE metadata (name TEXT, value TEXT)`,
		`CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)`,
		`CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			tb.Fatal(err)
		}
	}
	if meta == nil {
		meta = map[string]string{}
	}
	if _, ok := meta["format"]; !ok {
		meta["format"] = "png"
	}
	for k, v := range meta {
		if _, err := db.Exec(`INSERT INTO metadata VALUES (?, ?)`, k, v); err != nil {
			tb.Fatal(err)
		}
	}
	for t, data := range tiles {
		if _, err := db.Exec(`INSERT INTO tiles VALUES (?, ?, ?, ?)`, t.Z, t.X, (1<<t.Z)-1-t.Y, data); err != nil {
			tb.Fatal(err)
		}
	}
	return path
}
