package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestREADMECheckFigure: the README's hand check ("CAR is X km × G g/km = Y kg") is what its
// own commands give: the samples synced with the phone's labels, as testdata/golden.py computes
// them (TestReportMatchesGolden checks the app against the same figures).
func TestREADMECheckFigure(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`CAR\s+is\s+([0-9.]+)\s+km\s+×\s+([0-9.]+)\s+g/km\s+=\s+([0-9.]+)\s+kg`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README has no CAR check figure")
	}
	raw, err := os.ReadFile("testdata/golden_samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var goldens map[string]golden
	if err := json.Unmarshal(raw, &goldens); err != nil {
		t.Fatal(err)
	}
	car := goldens["labels"].ByMode["CAR"]
	km, _ := strconv.ParseFloat(string(m[1]), 64)
	g, _ := strconv.ParseFloat(string(m[2]), 64)
	kg, _ := strconv.ParseFloat(string(m[3]), 64)
	if fmt.Sprintf("%.2f", car.DistanceKm) != string(m[1]) || fmt.Sprintf("%.2f", car.CO2Kg) != string(m[3]) || fmt.Sprintf("%.2f", km*g/1000) != string(m[3]) {
		t.Errorf("README: CAR is %s km × %s g/km = %s kg (%.2f); the synced samples give %.2f km and %.2f kg", m[1], m[2], m[3], kg, car.DistanceKm, car.CO2Kg)
	}
}

// TestREADMEDocumentsEveryCommandAndVariable: every command of the app and every environment
// variable the programs read is in the README (the port, say, or COACHCO2_SINCE).
func TestREADMEDocumentsEveryCommandAndVariable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range newRootCmd().Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if !regexp.MustCompile("(\\| `|app )" + regexp.QuoteMeta(c.Name()) + "[ `]").Match(readme) {
			t.Errorf("the README names no app command %q (in its table, or as \"app %[1]s\")", c.Name())
		}
	}
	env := regexp.MustCompile(`COACHCO2_[A-Z_]+`)
	for _, dir := range []string{".", "../connector", "../pkg/cmdenv"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range env.FindAll(src, -1) {
				if !bytes.Contains(readme, append(append([]byte("`"), v...), '`')) {
					t.Errorf("%s reads %s, which the README does not name", f, v)
				}
			}
		}
	}
}
