package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/collector"
	"github.com/coachco2/coachco2/pkg/vault"
)

// TestStudyFromTheCommandLine runs a study as a participant does, with the app's commands, against
// a real collector: add the descriptor, preview, consent, share, share again (nothing more),
// revoke (the collector deletes).
func TestStudyFromTheCommandLine(t *testing.T) {
	ctx := t.Context()
	store, err := collector.Open(ctx, filepath.Join(t.TempDir(), "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv, err := collector.NewServer(store, collector.Options{AdminToken: "admin-token-0123456789abcdef", Rate: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	// Generated trips from 2022 on: a study of three months of 2024, kept ten years.
	desc, _ := json.Marshal(map[string]any{
		"id": "cli-study", "version": 1, "title": "Mobility", "institution": "Test university", "contact": "dpo@example.org",
		"purpose": map[string]string{"fr": "Mesurer", "en": "Measure"}, "collector_url": hs.URL,
		"measures": []string{"co2_monthly_kg", "trips_monthly_by_mode"}, "period": map[string]string{"from": "2024-06", "to": "2024-08"},
		"retention_months": 120, "k": 2,
	})
	req, _ := http.NewRequest(http.MethodPut, hs.URL+"/studies/cli-study", bytes.NewReader(desc))
	req.Header.Set("Authorization", "Bearer admin-token-0123456789abcdef")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("register the study: %v %v", resp, err)
	}
	file := filepath.Join(t.TempDir(), "study.json")
	if err := os.WriteFile(file, desc, 0o600); err != nil {
		t.Fatal(err)
	}
	v0, dsn, instance := couch.Backends()[0].Open(t)
	coachtest.Fill(t, v0, 3000)
	common := []string{"--vault", dsn, "--instance", instance}
	runApp(t, append([]string{"studies", "add", file}, common...)...)
	if out := runApp(t, append([]string{"studies", "list"}, common...)...); !strings.Contains(out, "cli-study") {
		t.Fatalf("studies list: %s", out)
	}
	preview := runApp(t, append([]string{"consent", "grant", "cli-study", "--measures", "co2_monthly_kg", "--preview"}, common...)...)
	if !strings.Contains(preview, "co2_monthly_kg") || strings.Contains(preview, "trips_monthly_by_mode") || strings.Contains(preview, "coordinates") {
		t.Fatalf("preview: %s", preview)
	}
	runApp(t, append([]string{"consent", "grant", "cli-study", "--measures", "co2_monthly_kg"}, common...)...)
	runApp(t, append([]string{"share", "--json"}, common...)...)
	count := func() int {
		n, err := store.CountContributions(ctx, "cli-study")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 3 { // June, July and August 2024
		t.Fatalf("%d contributions at the collector, want 3 (one per month)", n)
	}
	runApp(t, append([]string{"share", "--json"}, common...)...)
	if n := count(); n != 3 {
		t.Fatalf("%d contributions after sharing again, want 3", n)
	}
	// Every transmission is in the vault's log.
	v, err := vault.Open(ctx, dsn, instance)
	if err != nil {
		t.Fatal(err)
	}
	logDB, _ := v.DB(ctx, vault.DoctypeTransmissions)
	n, _ := logDB.Count(ctx)
	v.Close()
	if n == 0 {
		t.Fatal("no transmission logged")
	}
	runApp(t, append([]string{"consent", "revoke", "cli-study"}, common...)...)
	if n := count(); n != 0 {
		t.Fatalf("%d contributions after the revocation, want 0", n)
	}
}
