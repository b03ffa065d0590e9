package main

import (
	"context"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/vault"
)

// TestTextFollowsTheLanguage: `app report` and `app trips` speak the system's language
// (LANG=fr_FR.UTF-8 gives French, with the decimal comma), and the person's setting wins over it.
func TestTextFollowsTheLanguage(t *testing.T) {
	dsn, instance := syncedVault(t, couch.Backends()[0], false)
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "fr_FR.UTF-8")
	out := runApp(t, "report", "--vault", dsn, "--instance", instance)
	if !strings.Contains(out, "trajets") || !strings.Contains(out, "Période") || !strings.Contains(out, " km") {
		t.Fatalf("report with LANG=fr_FR.UTF-8:\n%s", out)
	}
	if out := runApp(t, "trips", "--vault", dsn, "--instance", instance); !strings.HasPrefix(out, "DÉPART") {
		t.Fatalf("trips with LANG=fr_FR.UTF-8:\n%.300s", out)
	}
	ctx := context.Background()
	v, err := vault.Open(ctx, dsn, instance)
	if err != nil {
		t.Fatal(err)
	}
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateSettings(ctx, func(s *settings.Settings) error { s.Language = "en"; return nil }); err != nil {
		t.Fatal(err)
	}
	v.Close()
	if out := runApp(t, "report", "--vault", dsn, "--instance", instance); !strings.Contains(out, "Period") {
		t.Fatalf("report with the setting en:\n%.300s", out)
	}
}
