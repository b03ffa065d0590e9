// Package sampledata locates the shared OpenPATH sample data for tests.
//
// The samples (real e-mission pipeline output, BSD-3) live outside the repository, in
// ../shared/openpath-samples beside the project root, and are never copied into it. A test that
// needs them calls Dir, which skips the test with a clear message on a machine without them.
// OPENPATH_SAMPLES overrides the location.
package sampledata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the samples directory, or skips the test when it cannot be found.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := Find()
	if err != nil {
		t.Skipf("OpenPATH samples not found (%v): they live in ../shared/openpath-samples beside the project root, or set OPENPATH_SAMPLES", err)
	}
	return dir
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
