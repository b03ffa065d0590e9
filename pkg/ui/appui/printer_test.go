package appui_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/ui/appui"
)

var trips = []coach.TripSummary{
	{ID: "t1", Start: "2024-05-02T08:00:00+02:00", End: "2024-05-02T08:20:00+02:00", Modes: []trip.Mode{trip.Bicycling, trip.Walking},
		Purpose: trip.Commute, DistanceM: 4250, DurationS: 1200, CO2Kg: 0, Title: "Home ➝ Office"},
	{ID: "t2", Start: "2024-05-02T18:00:00+02:00", End: "2024-05-02T18:30:00+02:00", Modes: []trip.Mode{trip.Car}, DistanceM: 12000, DurationS: 1800, CO2Kg: 2.5},
}

func TestTrips(t *testing.T) {
	var out bytes.Buffer
	if err := appui.New(&out, false).Trips(trips); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "START END MODES PURPOSE KM MIN KG CO2e ID TITLE" ||
		strings.Join(strings.Fields(lines[1]), " ") != "2024-05-02T08:00:00+02:00 2024-05-02T08:20:00+02:00 BICYCLING+WALKING COMMUTE 4.2 20 0.000 t1 Home ➝ Office" {
		t.Fatalf("text trips:\n%s", out.String())
	}
	out.Reset()
	if err := appui.New(&out, true).Trips(trips); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var first coach.TripSummary
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &first) != nil || first.ID != "t1" || first.DistanceM != 4250 {
		t.Fatalf("JSON trips, one a line:\n%s", out.String())
	}
}

func TestShared(t *testing.T) {
	var out bytes.Buffer
	text := appui.New(&out, false)
	if err := text.Shared(sharing.Summary{}); err != nil || out.String() != "No active consent: nothing sent.\n" {
		t.Fatalf("nothing shared: %q, %v", out.String(), err)
	}
	out.Reset()
	sum := sharing.Summary{Studies: []sharing.StudySummary{{StudyID: "s1", StudyVersion: 2, Pending: 3, Sent: 3, Created: 2, Replaced: 1, Attempts: 1,
		Dropped: []string{"2024-04: no trip"}, Error: "collector down"}}, Withdrawals: 1, Sent: 3}
	if err := text.Shared(sum); err != nil {
		t.Fatal(err)
	}
	want := "s1 (version 2): 3 due, 3 stored by the collector (2 new, 1 replaced, 0 unchanged) in 1 request(s)\n" +
		"  left out: 2024-04: no trip\n  error: collector down\n1 withdrawal(s) confirmed by the collectors\n"
	if out.String() != want {
		t.Fatalf("text share:\n%q\nwant\n%q", out.String(), want)
	}
	out.Reset()
	if err := appui.New(&out, true).Shared(sum); err != nil || !strings.Contains(out.String(), `"study_id":"s1"`) || !strings.Contains(out.String(), `"withdrawals":1`) {
		t.Fatalf("JSON share: %s, %v", out.String(), err)
	}
}

func TestConsents(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) *time.Time { t := now.AddDate(0, 0, d); return &t }
	c := func(id string) sharing.Consent {
		return sharing.Consent{ID: id, StudyID: "s-" + id, StudyVersion: 1, Pseudonym: "p-" + id, Measures: []study.MeasureID{study.CO2Monthly},
			GrantedAt: now.AddDate(0, -1, 0), ExpiresAt: now.AddDate(1, 0, 0)}
	}
	active, deleted, pending, replaced, expired, inactive := c("a"), c("d"), c("p"), c("r"), c("e"), c("i")
	active.Profile = map[string]string{"zone": "urban", "age_band": "30-44"}
	deleted.Withdraw, deleted.RevokedAt, deleted.WithdrawnAt = true, day(-3), day(-2)
	pending.Withdraw, pending.RevokedAt = true, day(-1)
	replaced.Superseded, replaced.RevokedAt = true, day(-5)
	expired.ExpiresAt = now
	var out bytes.Buffer
	all := []sharing.Consent{active, deleted, pending, replaced, expired, inactive}
	if err := appui.Consents(&out, "en", all, []sharing.Consent{active}, now); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	want := []string{
		"STUDY VERSION STATE MEASURES PROFILE GRANTED EXPIRES REVOKED PSEUDONYM",
		"s-a 1 active co2_monthly_kg age_band=30-44,zone=urban 2024-05-01 2025-06-01 - p-a",
		"s-d 1 revoked, data deleted co2_monthly_kg 2024-05-01 2025-06-01 2024-05-29 p-d",
		"s-p 1 revoked, deletion pending co2_monthly_kg 2024-05-01 2025-06-01 2024-05-31 p-p",
		"s-r 1 replaced by a newer consent co2_monthly_kg 2024-05-01 2025-06-01 2024-05-27 p-r",
		"s-e 1 expired co2_monthly_kg 2024-05-01 2024-06-01 - p-e",
		"s-i 1 inactive (new study version: consent again) co2_monthly_kg 2024-05-01 2025-06-01 - p-i",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("consents:\n%s\nwant (spaces aside)\n%s", out.String(), strings.Join(want, "\n"))
	}
	out.Reset()
	if err := appui.Consents(&out, "en", nil, nil, now); err != nil || out.String() != "No consent: nothing is ever sent.\n" {
		t.Fatalf("no consent: %q, %v", out.String(), err)
	}
}

// TestTextInFrench: in French, the report's sentences and the tables' headings are French and
// numbers take the decimal comma; the JSON does not change.
func TestTextInFrench(t *testing.T) {
	var out bytes.Buffer
	if err := appui.NewIn(&out, false, "fr").Trips(trips); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(out.String(), "\n"); !strings.HasPrefix(strings.Join(strings.Fields(lines[0]), " "), "DÉPART ARRIVÉE MODES MOTIF KM") ||
		!strings.Contains(lines[1], " 4,2 ") {
		t.Fatalf("trips in French:\n%s", out.String())
	}
	r := &indicators.Report{ByMode: map[trip.Mode]*indicators.Figures{}, ByMonth: map[string]*indicators.Figures{},
		ByPurpose: map[trip.Purpose]*indicators.Figures{}, BikeCommuteDays: map[string]int{"2024": 3}, CO2AvoidedKg: 1.5}
	r.Totals.Trips, r.Totals.DistanceKm = 2, 16.25
	out.Reset()
	if err := appui.NewIn(&out, false, "fr").Report(r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 trajets", "16,2 km", "1,50 kg CO2e évités", "Jours de vélotaf en 2024 : 3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report in French: no %q in\n%s", want, out.String())
		}
	}
}
