// Package sampledata locates the shared OpenPATH sample data for tests.
//
// The samples (real e-mission pipeline output, BSD-3) live outside the repository, in
// ../shared/openpath-samples beside the project root, and are never copied into it. A test that
// needs them calls Dir, which skips the test with a clear message on a machine without them, or
// fails it when the environment variable CI is set, so that CI never passes without them.
// OPENPATH_SAMPLES overrides the location.
package sampledata

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Dir returns the samples directory. When it cannot be found, Dir skips the test, or fails it
// when CI is set (to anything but "", "0" or "false").
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := Find()
	if err != nil {
		const where = "they live in ../shared/openpath-samples beside the project root, or set OPENPATH_SAMPLES"
		if onCI() {
			t.Fatalf("OpenPATH samples not found (%v): %s. CI is set, so the tests that need them must run.", err, where)
		}
		t.Skipf("OpenPATH samples not found (%v): %s", err, where)
	}
	return dir
}

// onCI reports whether the tests run on CI, where a missing prerequisite is a failure.
func onCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "0" && v != "false"
}

// Find returns the samples directory: $OPENPATH_SAMPLES, else ../shared/openpath-samples beside
// the module root found from the working directory.
func Find() (string, error) {
	if dir := os.Getenv("OPENPATH_SAMPLES"); dir != "" {
		return dir, checkDir(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			samples := filepath.Join(filepath.Dir(dir), "shared", "openpath-samples")
			return samples, checkDir(samples)
		}
		if filepath.Dir(dir) == dir {
			return "", os.ErrNotExist
		}
	}
}

func checkDir(dir string) error {
	_, err := os.Stat(filepath.Join(dir, "timeline"))
	return err
}

// TimelineTrips returns every trip FeatureCollection of the timeline samples (the "data" lists of
// their getTrips answers), in file order. It skips or fails the test as Dir does.
func TimelineTrips(t testing.TB) []json.RawMessage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Dir(t), "timeline", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no timeline samples: %v", err)
	}
	var trips []json.RawMessage
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var answer struct{ Data []json.RawMessage }
		if err := json.Unmarshal(raw, &answer); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		trips = append(trips, answer.Data...)
	}
	return trips
}
