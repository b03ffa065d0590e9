package webapp_test

import (
	"math"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// TestAnalysisMonthByMonth: the analysis of a year charts its 12 months' CO2 and distance by mode
// group and the modal share by month, each with its table; the shares of a month with trips add
// up to 1, the groups' CO2 to the month's; the dashboard's chart has a y-axis with its unit.
func TestAnalysisMonthByMonth(t *testing.T) {
	srv, _ := newApp(t)
	_, js := get(t, srv.URL+"/api/analysis?period=2016")
	months := gjson.Get(js, "monthly.months").Array()
	if len(months) != 12 || months[0].String() != "2016-01" || months[11].String() != "2016-12" {
		t.Fatalf("months %s", gjson.Get(js, "monthly.months").Raw)
	}
	withTrips := 0
	for i, m := range months {
		var share, kg float64
		for _, g := range gjson.Get(js, "monthly.groups").Array() {
			share += gjson.Get(js, "monthly.share_by_distance."+g.String()+"."+itoa(i)).Float()
			kg += gjson.Get(js, "monthly.co2_kg."+g.String()+"."+itoa(i)).Float()
		}
		month := gjson.Get(js, "report.by_month."+m.String())
		if month.Get("trips").Int() > 0 {
			withTrips++
			if math.Abs(share-1) > 1e-9 {
				t.Errorf("%s: shares add up to %v", m, share)
			}
		}
		if math.Abs(kg-month.Get("co2_kg").Float()) > 1e-9 {
			t.Errorf("%s: the groups' CO2 %.3f, the month's %.3f", m, kg, month.Get("co2_kg").Float())
		}
	}
	if withTrips == 0 {
		t.Fatal("no month with trips: the test data changed")
	}
	_, page := get(t, srv.URL+"/analysis?period=2016-07")
	for _, id := range []string{"monthly-co2", "monthly-km", "monthly-share"} {
		if !strings.Contains(page, `id="`+id+`-h"`) || !strings.Contains(page, `<table class="compact" id="`+id+`"`) {
			t.Errorf("the analysis has no %s chart and table", id)
		}
	}
	if !strings.Contains(page, ">08/15<") || !strings.Contains(page, ">07/16<") {
		t.Errorf("the analysis of a month charts the 12 months up to it")
	}
	if _, page = get(t, srv.URL+"/"); !strings.Contains(page, `class="axis unit">kg CO2e<`) {
		t.Errorf("the dashboard's chart has no y-axis unit")
	}
}
