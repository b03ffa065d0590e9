package openpath

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// benchTrips returns 40 copies of the generated trip of the fuzz seed corpus (a package test cannot
// import tripgen, which imports this package).
func benchTrips(b *testing.B) [][]byte {
	b.Helper()
	file, err := os.ReadFile("testdata/fuzz/FuzzDecodeAnswer/timeline")
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(string(file), "\n")
	quoted := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
	answer, err := strconv.Unquote(quoted)
	if err != nil {
		b.Fatal(err)
	}
	trip := []byte(gjson.Get(answer, "timeline.0").Raw)
	out := make([][]byte, 40)
	for i := range out {
		out[i] = trip
	}
	return out
}
