package main

import (
	"bytes"
	"os"
	"testing"
)

// The app embeds a copy of the repository's manifest.webapp (go:embed cannot reach the parent
// directory): they must stay identical.
func TestEmbeddedManifestIsTheRepositorys(t *testing.T) {
	root, err := os.ReadFile("../manifest.webapp")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(root, manifest) {
		t.Fatal("app/manifest.webapp differs from manifest.webapp: copy the root one over it")
	}
}
