package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/sharing"
)

// TestWrite: one request file per remote doctype, as the stack's doctypes folder holds them, for
// the collector given; a URL a descriptor could not name is refused and writes nothing.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir, "ftp://collector.example.org"); err == nil {
		t.Fatal("an ftp collector was accepted")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused URL wrote %d entries", len(entries))
	}
	const base = "https://collector.example.org/coachco2"
	if err := write(dir, base+"/"); err != nil {
		t.Fatal(err)
	}
	for doctype, first := range map[string]string{
		sharing.RemoteStudy:         "GET " + base + "/studies/{{study}}",
		sharing.RemoteContributions: "POST " + base + "/studies/{{study}}/contributions",
		sharing.RemoteWithdrawal:    "POST " + base + "/studies/{{study}}/participants/{{pseudonym}}/withdrawal",
	} {
		b, err := os.ReadFile(filepath.Join(dir, doctype, "request"))
		if err != nil {
			t.Fatal(err)
		}
		if line, _, _ := strings.Cut(string(b), "\n"); line != first {
			t.Errorf("%s: the request starts with %q, want %q", doctype, line, first)
		}
	}
}
