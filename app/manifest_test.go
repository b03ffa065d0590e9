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

// The app embeds a copy of the connector's manifest too: the syncs `app serve` runs go through
// its permissions, not the app's.
func TestEmbeddedKonnectorManifestIsTheConnectors(t *testing.T) {
	connector, err := os.ReadFile("../connector/manifest.konnector")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(connector, konnectorManifest) {
		t.Fatal("app/manifest.konnector differs from connector/manifest.konnector: copy the connector's over it")
	}
}
