package webapp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/settings"
)

// TestCO2AvoidedIsExplainedAndNotNegative: with the ImpactCO2 factor set (whose plane factor is
// above the car's), the samples' plane trips no longer make CO2 avoided negative, and the
// dashboard says how it is computed.
func TestCO2AvoidedIsExplainedAndNotNegative(t *testing.T) {
	srv, c := newApp(t)
	if _, err := c.UpdateSettings(context.Background(), func(s *settings.Settings) error {
		s.FactorSet = co2.ImpactCO2SetID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, js := get(t, srv.URL+"/api/analysis?period=2016")
	if v := gjson.Get(js, "report.co2_avoided_kg"); !v.Exists() || v.Float() < 0 {
		t.Errorf("CO2 avoided in 2016: %s, want ≥ 0", v.Raw)
	}
	if _, page := get(t, srv.URL+"/"); !strings.Contains(page, `id="avoided-how"`) {
		t.Errorf("the dashboard does not say how CO2 avoided is computed")
	}
}
