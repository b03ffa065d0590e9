// Command doctypes writes the remote doctypes of Coach CO2's research sharing in a Cozy for a
// territory's collector: DIR/<doctype>/request for each, the folder a Cozy stack reads them from
// (`cozy-stack serve --doctypes DIR`, cozy-stack docs/remote.md). The app installed in a Cozy
// sends its contributions and withdrawals, and reads the studies' descriptors, through them
// (README, "In your Cozy").
//
// Usage: go run ./cozyapp/doctypes -collector https://collector.example.org/coachco2 -out DIR
package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/coachco2/coachco2/pkg/sharing"
)

func main() {
	collector := flag.String("collector", "", "the collector's base URL, as the studies' descriptors give it (collector_url)")
	out := flag.String("out", "", "the stack's doctypes folder")
	flag.Parse()
	if *collector == "" || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: doctypes -collector URL -out DIR")
		os.Exit(2)
	}
	if err := write(*out, *collector); err != nil {
		fmt.Fprintln(os.Stderr, "doctypes:", err)
		os.Exit(1)
	}
}

// write writes the request file of each remote doctype for the collector under dir.
func write(dir, collectorURL string) error {
	reqs, err := sharing.RemoteRequests(collectorURL)
	if err != nil {
		return fmt.Errorf("the collector's URL: %w", err)
	}
	var errs []error
	for _, doctype := range slices.Sorted(maps.Keys(reqs)) {
		d := filepath.Join(dir, doctype)
		if err := os.MkdirAll(d, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		// The stack reads the file as the request (model/remote/remote.go, Find).
		if err := os.WriteFile(filepath.Join(d, "request"), []byte(reqs[doctype]), 0o644); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Println(filepath.Join(d, "request"))
	}
	return errors.Join(errs...)
}
