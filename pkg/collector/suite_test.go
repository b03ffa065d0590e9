package collector

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/syncbuf"
)

// The suite runs on SQLite always, and on PostgreSQL when COLLECTOR_POSTGRES_DSN names a database
// the tests may create schemas in (`make test` gives the local server's). Without a reachable
// PostgreSQL that run is skipped, or fails when CI is set: CI must never pass without it.

func TestSQLite(t *testing.T) { runSuite(t, sqliteBackend()) }

func TestPostgres(t *testing.T) {
	dsn, problem := postgresForSuite(t.Context(), postgresDSN())
	if problem != "" {
		if onCI() {
			t.Fatalf("%s. CI is set, so the collector's PostgreSQL suite must run: start PostgreSQL and set COLLECTOR_POSTGRES_DSN (`make test` sets it).", problem)
		}
		t.Skipf("%s: the PostgreSQL run of the suite is skipped (`make test` runs it on postgres://127.0.0.1:5432/test).", problem)
	}
	b := postgresBackend(dsn)
	t.Run("PasswordHidden", func(t *testing.T) { testPasswordHidden(t, b) })
	runSuite(t, b)
}

func runSuite(t *testing.T, b backend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, backend)
	}{
		{"KAnonymity", testKAnonymity},
		{"KAnonymityPerGroup", testKAnonymityPerGroup},
		{"KLoweredLater", testKLoweredLater},
		{"MigrationKeepsConsentedK", testMigrationConsentedK},
		{"Statistics", testStatistics},
		{"ResendDoesNotDoubleCount", testResend},
		{"Withdrawal", func(t *testing.T, b backend) { testWithdrawal(t, b, deleteParticipant) }},
		{"WithdrawalByPOST", func(t *testing.T, b backend) { testWithdrawal(t, b, postWithdrawal) }},
		{"BadContributionsStoreNothing", testBadContributions},
		{"Restart", testRestart},
		{"RateLimit", testRateLimit},
		{"AdminToken", testAdminToken},
		{"StudyVersions", testStudyVersions},
		{"Retention", testRetention},
		{"CSV", testCSV},
		{"AggregatesQuery", testAggregatesQuery},
		{"Concurrent", testConcurrent},
		{"LogsHoldNoPseudonym", testLogs},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

// With k = 5, four participants' data never appears in any aggregate, and five participants' does.
func testKAnonymity(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	values := []float64{12.5, 40, 7.25, 101, 55}
	for i, v := range values[:4] {
		e.mustPost(d.ID, co2(pseudonym(t), "2026-03", v, age("30-44")))
		a := e.aggregates(d.ID, "measure=co2_monthly_kg&period=2026-03&group=all,age_band")
		if len(a.Aggregates) != 0 {
			t.Fatalf("%d participants: aggregates published: %+v", i+1, a.Aggregates)
		}
		if !suppressed(a, study.CO2Monthly, "2026-03", GroupAll, "") || !suppressed(a, study.CO2Monthly, "2026-03", "age_band", "30-44") {
			t.Fatalf("%d participants: the groups are not listed as suppressed: %+v", i+1, a.Suppressed)
		}
	}
	// Nothing of the four, not even their number, in any answer, JSON or CSV.
	for _, q := range []string{"", "group=age_band", "format=csv", "group=all,age_band&format=csv"} {
		r := e.do(http.MethodGet, "/studies/"+d.ID+"/aggregates?"+q, nil, admin())
		for _, leak := range []string{"12.5", "7.25", "101", `"count"`, `"sum"`} {
			if bytes.Contains(r.body, []byte(leak)) {
				t.Fatalf("aggregates?%s with 4 participants holds %s:\n%s", q, leak, r.body)
			}
		}
		if q == "format=csv" {
			recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs[1:] {
				if rec[9] != "true" || rec[10] != "" {
					t.Fatalf("CSV row with 4 participants not suppressed or with a count: %v", rec)
				}
			}
		}
	}

	e.mustPost(d.ID, co2(pseudonym(t), "2026-03", values[4], age("30-44")))
	a := e.aggregates(d.ID, "measure=co2_monthly_kg&period=2026-03&group=all,age_band")
	all, ok := find(a, study.CO2Monthly, "2026-03", GroupAll, "", "")
	if !ok {
		t.Fatalf("5 participants: no aggregate for all: %+v", a)
	}
	mustEqual(t, "count", all.Count, 5)
	if !approx(all.Sum, 215.75) {
		t.Fatalf("sum = %v, want 215.75", all.Sum)
	}
	g, ok := find(a, study.CO2Monthly, "2026-03", "age_band", "30-44", "")
	if !ok || g.Count != 5 {
		t.Fatalf("5 participants aged 30-44: group not published: %+v", a)
	}
	if suppressed(a, study.CO2Monthly, "2026-03", GroupAll, "") || suppressed(a, study.CO2Monthly, "2026-03", "age_band", "30-44") {
		t.Fatalf("published groups also listed as suppressed: %+v", a.Suppressed)
	}
	if !suppressed(a, study.CO2Monthly, "2026-03", "age_band", "60+") {
		t.Fatalf("an empty age band is not listed as suppressed: %+v", a.Suppressed)
	}
	// Other periods with no contribution are suppressed, not absent: an answer never tells
	// whether anybody contributed.
	a = e.aggregates(d.ID, "measure=co2_monthly_kg")
	if !suppressed(a, study.CO2Monthly, "2026-01", GroupAll, "") || !suppressed(a, study.CO2Monthly, "2026-06", GroupAll, "") {
		t.Fatalf("ended periods without contributions are not listed: %+v", a.Suppressed)
	}
	if suppressed(a, study.CO2Monthly, "2026-07", GroupAll, "") {
		t.Fatal("the current month is listed although it has not ended")
	}
	for _, s := range a.Suppressed {
		if s.Reason == "" {
			t.Fatalf("suppressed without a reason: %+v", s)
		}
	}
}

// Per group: a group below k stays hidden, also when "all" minus the published groups would
// reveal it (secondary suppression).
func testKAnonymityPerGroup(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	post := func(n int, band string) {
		for i := 0; i < n; i++ {
			var profile map[string]string
			if band != "" {
				profile = age(band)
			}
			e.mustPost(d.ID, co2(pseudonym(t), "2026-04", 10, profile))
		}
	}
	q := "measure=co2_monthly_kg&period=2026-04&group=all&group=age_band"
	post(5, "30-44")
	post(4, "18-29")
	a := e.aggregates(d.ID, q)
	// all = 9 is published; 18-29 (4) is below k, and 30-44 (5) would reveal it as 9 - 5.
	if x, ok := find(a, study.CO2Monthly, "2026-04", GroupAll, "", ""); !ok || x.Count != 9 {
		t.Fatalf("all: %+v", a)
	}
	for _, band := range []string{"18-29", "30-44", "45-59", "60+"} {
		if _, ok := find(a, study.CO2Monthly, "2026-04", "age_band", band, ""); ok {
			t.Fatalf("age band %s published: it would reveal a group of 4: %+v", band, a.Aggregates)
		}
		if !suppressed(a, study.CO2Monthly, "2026-04", "age_band", band) {
			t.Fatalf("age band %s not listed as suppressed", band)
		}
	}
	// Asking for the group of 5 alone does not make it visible.
	a = e.aggregates(d.ID, "measure=co2_monthly_kg&period=2026-04&group=age_band=30-44")
	if len(a.Aggregates) != 0 || len(a.Suppressed) != 1 || !suppressed(a, study.CO2Monthly, "2026-04", "age_band", "30-44") {
		t.Fatalf("group=age_band=30-44: %+v", a)
	}
	// Participants who did not give their age are a hidden remainder too.
	post(1, "18-29") // 18-29 now 5
	post(2, "")      // 2 without an age band: all = 12, published bands 5 + 5, remainder 2
	a = e.aggregates(d.ID, q)
	published := 0
	for _, band := range []string{"18-29", "30-44"} {
		if _, ok := find(a, study.CO2Monthly, "2026-04", "age_band", band, ""); ok {
			published++
		}
	}
	if published != 1 {
		t.Fatalf("with a remainder of 2, exactly one of the two bands of 5 must be withdrawn; published %d: %+v", published, a.Aggregates)
	}
	post(3, "") // remainder 5: both bands published
	a = e.aggregates(d.ID, q)
	for _, band := range []string{"18-29", "30-44"} {
		x, ok := find(a, study.CO2Monthly, "2026-04", "age_band", band, "")
		if !ok || x.Count != 5 {
			t.Fatalf("age band %s with 5 participants and a remainder of 5: %+v", band, a)
		}
	}
	if x, _ := find(a, study.CO2Monthly, "2026-04", GroupAll, "", ""); x.Count != 15 {
		t.Fatalf("all: count %d, want 15", x.Count)
	}
	a = e.aggregates(d.ID, "measure=co2_monthly_kg&period=2026-04&group=age_band=18-29,age_band%3D60%2B")
	if x, ok := find(a, study.CO2Monthly, "2026-04", "age_band", "18-29", ""); !ok || x.Count != 5 || len(a.Aggregates) != 1 ||
		len(a.Suppressed) != 1 || !suppressed(a, study.CO2Monthly, "2026-04", "age_band", "60+") {
		t.Fatalf("group=age_band=18-29,age_band=60+: %+v", a)
	}
	// A field's groups include its values': no row twice.
	a = e.aggregates(d.ID, "measure=co2_monthly_kg&period=2026-04&group=age_band=18-29&group=age_band")
	mustEqual(t, "rows", len(a.Aggregates)+len(a.Suppressed), 4)
}

// The admin publishes version 1 with k = 5, receives 4 contributions, then publishes version 2
// with k = 2: the 4 stay suppressed, alone or by subtraction, until they are in groups of 5.
func testKLoweredLater(t *testing.T, b backend) {
	e := newEnv(t, b)
	v1 := testStudy()
	e.putStudy(v1)
	var first []string
	for _, v := range []float64{12.5, 40, 7.25, 101} {
		first = append(first, pseudonym(t))
		e.mustPost(v1.ID, co2(first[len(first)-1], "2026-03", v, age("30-44")))
	}
	v2 := testStudy()
	v2.Version, v2.K = 2, 2
	e.putStudy(v2)
	under2 := func(band string) {
		c := co2(pseudonym(t), "2026-03", 60, age(band))
		c.StudyVersion = 2
		e.mustPost(v2.ID, c)
	}
	q := "measure=co2_monthly_kg&period=2026-03&group=all,age_band"
	noLeak := func(when string) {
		t.Helper()
		for _, f := range []string{"json", "csv"} {
			r := e.do(http.MethodGet, "/studies/"+v2.ID+"/aggregates?"+q+"&format="+f, nil, admin())
			mustEqual(t, "status", r.status, http.StatusOK)
			for _, leak := range []string{"12.5", "7.25", "101", "40.1875", `"count"`, ",false,"} {
				if bytes.Contains(r.body, []byte(leak)) {
					t.Fatalf("%s: the answer (%s) holds %s:\n%s", when, f, leak, r.body)
				}
			}
		}
	}
	noLeak("4 sent under k = 5, k now 2")
	a := e.aggregates(v2.ID, q)
	mustEqual(t, "answer's k", a.K, 2)

	// Two newcomers under k = 2 in another band: "all" (6) reaches 5 and is published, but the
	// newcomers' band (2) is not, since "all" minus it would be the 4 sent under k = 5.
	under2("18-29")
	under2("18-29")
	a = e.aggregates(v2.ID, q)
	all, ok := find(a, study.CO2Monthly, "2026-03", GroupAll, "", "")
	if !ok || all.Count != 6 {
		t.Fatalf("6 participants, 4 of them under k = 5: all not published: %+v", a)
	}
	for _, band := range []string{"18-29", "30-44"} {
		if x, ok := find(a, study.CO2Monthly, "2026-03", "age_band", band, ""); ok {
			t.Fatalf("band %s published (%+v): with all, it reveals the 4 sent under k = 5", band, x)
		}
	}
	// One more in the band of the 4: 5 there, published, and then the 2 as well.
	under2("30-44")
	a = e.aggregates(v2.ID, q)
	for band, n := range map[string]int{"30-44": 5, "18-29": 2} {
		if x, ok := find(a, study.CO2Monthly, "2026-03", "age_band", band, ""); !ok || x.Count != n {
			t.Fatalf("band %s: %+v, want a count of %d", band, a, n)
		}
	}
	// One of the 4 withdraws: their band is back under 5, hidden again, and so is the other.
	r := e.do(http.MethodDelete, "/studies/"+v2.ID+"/participants/"+first[0], nil, nil)
	mustEqual(t, "DELETE status", r.status, http.StatusOK)
	a = e.aggregates(v2.ID, q)
	if x, ok := find(a, study.CO2Monthly, "2026-03", GroupAll, "", ""); !ok || x.Count != 6 {
		t.Fatalf("all after the withdrawal: %+v", a)
	}
	for _, band := range []string{"18-29", "30-44"} {
		if x, ok := find(a, study.CO2Monthly, "2026-03", "age_band", band, ""); ok {
			t.Fatalf("band %s published (%+v) with 3 of the k = 5 participants left in 30-44", band, x)
		}
	}
}

// A database of schema version 1 holds 4 contributions under a study with k = 5: opening it
// records k = 5 for them, so that a version 2 with k = 2 does not publish them.
func testMigrationConsentedK(t *testing.T, b backend) {
	dsn := b.dsn(t)
	driver := "sqlite"
	if b.name == BackendPostgres {
		driver = "pgx"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	v1 := testStudy()
	doc, _ := json.Marshal(v1)
	stmts := append(migrations()[1].stmts,
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, 0)`)
	for _, stmt := range stmts {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatalf("schema version 1: %v", err)
		}
	}
	st := &Store{backend: b.name}
	if _, err := raw.Exec(st.q(`INSERT INTO studies VALUES (?, 1, ?, 0, 0)`), v1.ID, string(doc)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := raw.Exec(st.q(`INSERT INTO contributions VALUES (?, ?, 'co2_monthly_kg', '2026-03', 1, '{"":10}', '{}', ?)`),
			v1.ID, pseudonym(t), day(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	e := &env{t: t, dsn: dsn, clock: &clock{t: time.Date(2026, 7, 15, 10, 0, 0, 0, time.UTC)}, logs: &syncbuf.Buffer{}}
	e.opts = Options{AdminToken: testToken, Rate: -1, Now: e.clock.Now, Logger: slog.New(slog.NewJSONHandler(e.logs, nil))}
	e.start() // migrates to the current version
	t.Cleanup(e.stop)
	v2 := testStudy()
	v2.Version, v2.K = 2, 2
	e.putStudy(v2)
	a := e.aggregates(v2.ID, "measure=co2_monthly_kg&period=2026-03")
	if len(a.Aggregates) != 0 {
		t.Fatalf("contributions stored under k = 5 before the migration are published at k = 2: %+v", a.Aggregates)
	}
	var n int
	if err := e.store.db.QueryRow("SELECT COUNT(*) FROM contributions WHERE consented_k = 5").Scan(&n); err != nil || n != 4 {
		t.Fatalf("%d contributions with consented_k = 5, %v; want 4", n, err)
	}
}

// Statistics checked against values computed by hand with the stated method (R type 7).
func testStatistics(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	// co2_monthly_kg for 2026-05: 1, 2, 3, 4, 5, 10 (sent out of order).
	// n = 6, sum = 25, mean = 25/6; sorted x = [1 2 3 4 5 10]
	// Q1: h = 5 × 0.25 = 1.25 → x[1] + 0.25 (x[2] - x[1]) = 2 + 0.25 = 2.25
	// median: h = 2.5 → x[2] + 0.5 (x[3] - x[2]) = 3.5
	// Q3: h = 3.75 → x[3] + 0.75 (x[4] - x[3]) = 4.75
	for _, v := range []float64{5, 1, 10, 3, 2, 4} {
		e.mustPost(d.ID, co2(pseudonym(t), "2026-05", v, nil))
	}
	// distance_monthly_km_by_mode for 2026-05: BICYCLING 10, 20, 30, 40, 50 and CAR 100 for the
	// first only; categories left out count as 0.
	// BICYCLING: n 5, sum 150, mean 30, Q1 (h = 1) 20, median (h = 2) 30, Q3 (h = 3) 40.
	// CAR: [0 0 0 0 100]: sum 100, mean 20, Q1 0, median 0, Q3 0.
	for i, v := range []float64{10, 20, 30, 40, 50} {
		vals := map[string]float64{"BICYCLING": v}
		if i == 0 {
			vals["CAR"] = 100
		}
		e.mustPost(d.ID, study.Contribution{StudyID: d.ID, StudyVersion: 1, Pseudonym: pseudonym(t),
			Measure: study.DistanceMonthlyByMode, Period: study.Month(2026, time.May), Values: vals})
	}
	a := e.aggregates(d.ID, "period=2026-05")
	check := func(measure study.MeasureID, cat string, want Summary) {
		t.Helper()
		x, ok := find(a, measure, "2026-05", GroupAll, "", cat)
		if !ok {
			t.Fatalf("%s %s: no aggregate", measure, cat)
		}
		if x.Count != want.Count || !approx(x.Sum, want.Sum) || !approx(x.Mean, want.Mean) || !approx(x.Median, want.Median) ||
			!approx(x.Q1, want.Q1) || !approx(x.Q3, want.Q3) {
			t.Fatalf("%s %s: got %+v, want %+v", measure, cat, x, want)
		}
	}
	check(study.CO2Monthly, "", Summary{Count: 6, Sum: 25, Mean: 25.0 / 6, Median: 3.5, Q1: 2.25, Q3: 4.75})
	check(study.DistanceMonthlyByMode, "BICYCLING", Summary{Count: 5, Sum: 150, Mean: 30, Median: 30, Q1: 20, Q3: 40})
	check(study.DistanceMonthlyByMode, "CAR", Summary{Count: 5, Sum: 100, Mean: 20, Median: 0, Q1: 0, Q3: 0})
	check(study.DistanceMonthlyByMode, "TRAIN", Summary{Count: 5})
	if x, _ := find(a, study.CO2Monthly, "2026-05", GroupAll, "", ""); x.Unit != study.UnitKgCO2e {
		t.Fatalf("unit %q", x.Unit)
	}
	if a.QuantileMethod == "" || a.K != 5 || a.StudyVersion != 1 {
		t.Fatalf("answer header: %+v", a)
	}
	// Every mode is answered, in the catalogue's order.
	n := 0
	for _, x := range a.Aggregates {
		if x.Measure == study.DistanceMonthlyByMode {
			if x.Category != study.Modes()[n] {
				t.Fatalf("category %d is %s, want %s", n, x.Category, study.Modes()[n])
			}
			n++
		}
	}
	mustEqual(t, "modes answered", n, len(study.Modes()))
}

// Resending a period replaces it: counted once, with the latest numbers.
func testResend(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	ps := make([]string, 5)
	for i := range ps {
		ps[i] = pseudonym(t)
		s := e.mustPost(d.ID, co2(ps[i], "2026-02", 10, nil), co2(ps[i], "2026-03", 10, nil))
		mustEqual(t, "created", s.Created, 2)
	}
	s := e.mustPost(d.ID, co2(ps[0], "2026-02", 10, nil), co2(ps[0], "2026-03", 10, nil))
	if s.Created != 0 || s.Replaced != 0 || s.Unchanged != 2 || s.Stored[0].Status != study.EntryUnchanged {
		t.Fatalf("identical resend: %+v", s)
	}
	s = e.mustPost(d.ID, co2(ps[0], "2026-02", 60, nil))
	if s.Replaced != 1 || s.Stored[0].Status != study.EntryReplaced || s.Stored[0].Measure != study.CO2Monthly || s.Stored[0].Period.String() != "2026-02" {
		t.Fatalf("changed resend: %+v", s)
	}
	mustEqual(t, "stored contributions", e.count(d.ID), 10)
	a := e.aggregates(d.ID, "measure=co2_monthly_kg&period=2026-02,2026-03")
	feb, _ := find(a, study.CO2Monthly, "2026-02", GroupAll, "", "")
	mar, _ := find(a, study.CO2Monthly, "2026-03", GroupAll, "", "")
	if feb.Count != 5 || !approx(feb.Sum, 100) || mar.Count != 5 || !approx(mar.Sum, 50) {
		t.Fatalf("after resends: February %+v, March %+v", feb, mar)
	}
}

// deleteParticipant withdraws a pseudonym by DELETE on the participant.
func deleteParticipant(e *env, studyID, p string) response {
	return e.do(http.MethodDelete, "/studies/"+studyID+"/participants/"+p, nil, nil)
}

// postWithdrawal withdraws a pseudonym by POST on its withdrawal, as a Cozy's remote doctype
// does (an empty body).
func postWithdrawal(e *env, studyID, p string) response {
	return e.do(http.MethodPost, "/studies/"+studyID+"/participants/"+p+"/withdrawal", nil, nil)
}

// Withdrawal deletes everything of the pseudonym, the aggregates change, it is idempotent, and
// the pseudonym's contributions are refused afterwards; withdraw is the request that asks it
// (DELETE, or the POST a Cozy's remote doctype makes).
func testWithdrawal(t *testing.T, b backend, withdraw func(e *env, studyID, p string) response) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	ps := make([]string, 6)
	for i := range ps {
		ps[i] = pseudonym(t)
		e.mustPost(d.ID, co2(ps[i], "2026-01", float64(10*(i+1)), nil), co2(ps[i], "2026-02", 1, nil))
	}
	e.mustPost(d.ID, study.Contribution{StudyID: d.ID, StudyVersion: 1, Pseudonym: ps[5], Measure: study.TripsMonthlyByPurpose,
		Period: study.Month(2026, time.March), Values: map[string]float64{"WORK": 4}})
	before := e.aggregates(d.ID, "measure=co2_monthly_kg&period=2026-01")
	x, _ := find(before, study.CO2Monthly, "2026-01", GroupAll, "", "")
	if x.Count != 6 || !approx(x.Sum, 210) {
		t.Fatalf("before: %+v", x)
	}
	r := withdraw(e, d.ID, ps[5])
	mustEqual(t, "DELETE status", r.status, http.StatusOK)
	var del study.WithdrawalResult
	r.json(t, &del)
	if del.Deleted != 3 || len(del.Contributions) != 3 || del.StudyID != d.ID {
		t.Fatalf("deleted: %+v", del)
	}
	after := e.aggregates(d.ID, "measure=co2_monthly_kg&period=2026-01")
	x, _ = find(after, study.CO2Monthly, "2026-01", GroupAll, "", "")
	if x.Count != 5 || !approx(x.Sum, 150) {
		t.Fatalf("after withdrawal: %+v", x)
	}
	// Idempotent.
	r = withdraw(e, d.ID, ps[5])
	mustEqual(t, "second DELETE status", r.status, http.StatusOK)
	r.json(t, &del)
	if del.Deleted != 0 || len(del.Contributions) != 0 {
		t.Fatalf("second delete: %+v", del)
	}
	// A late retry from the withdrawn pseudonym is refused and stores nothing.
	r = e.post(d.ID, co2(ps[5], "2026-03", 10, nil))
	mustEqual(t, "POST after withdrawal", r.status, http.StatusGone)
	mustEqual(t, "code", r.errorCode(t), string(study.CodeWithdrawn))
	// One more withdrawal: 4 left, below k.
	withdraw(e, d.ID, ps[0])
	a := e.aggregates(d.ID, "measure=co2_monthly_kg&period=2026-01")
	if len(a.Aggregates) != 0 || !suppressed(a, study.CO2Monthly, "2026-01", GroupAll, "") {
		t.Fatalf("4 participants left: %+v", a)
	}
	mustEqual(t, "stored contributions", e.count(d.ID), 8)
	// Errors.
	r = withdraw(e, d.ID, "NOT-HEX")
	mustEqual(t, "malformed pseudonym", r.status, http.StatusBadRequest)
	mustEqual(t, "code", r.errorCode(t), string(study.CodeMalformedPseudonym))
	r = withdraw(e, "no-such-study", ps[1])
	mustEqual(t, "unknown study", r.status, http.StatusNotFound)
	mustEqual(t, "code", r.errorCode(t), string(study.CodeUnknownStudy))
	// Each route takes its own verb only.
	r = e.do(http.MethodGet, "/studies/"+d.ID+"/participants/"+ps[1]+"/withdrawal", nil, nil)
	mustEqual(t, "GET on the withdrawal", r.status, http.StatusMethodNotAllowed)
	r = e.do(http.MethodPost, "/studies/"+d.ID+"/participants/"+ps[1], nil, nil)
	mustEqual(t, "POST on the participant", r.status, http.StatusMethodNotAllowed)
}

// Bad contributions get a clear 4xx and store nothing: each case's batch holds a valid
// contribution too.
func testBadContributions(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	small := testStudy()
	small.ID, small.Measures = "co2-only", []study.MeasureID{study.CO2Monthly}
	e.putStudy(small)
	p := pseudonym(t)
	good := fmt.Sprintf(`{"study_id":"mobility-2026","study_version":1,"pseudonym":%q,"measure":"co2_monthly_kg","period":"2026-01","value":10}`, p)
	entry := func(fields string) string {
		return fmt.Sprintf(`{"study_id":"mobility-2026","study_version":1,"pseudonym":%q,%s}`, p, fields)
	}
	batch := func(entries ...string) string {
		return `{"contributions":[` + good + "," + strings.Join(entries, ",") + `]}`
	}
	many := make([]string, study.MaxBatchEntries)
	for i := range many {
		many[i] = entry(fmt.Sprintf(`"measure":"co2_monthly_kg","period":"2026-%02d","value":1`, i%6+1))
	}
	for _, tc := range []struct {
		name, path, body, ctype string
		status                  int
		code                    string
	}{
		{"unknown measure", "", batch(entry(`"measure":"steps_daily","period":"2026-02","value":1`)), "", 422, "unknown_measure"},
		{"measure not requested", "/studies/co2-only/contributions",
			`{"contributions":[` + strings.ReplaceAll(entry(`"measure":"trips_monthly_by_mode","period":"2026-02","values":{"CAR":3}`), "mobility-2026", "co2-only") + `]}`, "", 422, "measure_not_requested"},
		{"negative", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":-1`)), "", 422, "out_of_range"},
		{"too large", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1e6`)), "", 422, "out_of_range"},
		{"fractional count", "", batch(entry(`"measure":"trips_monthly_by_mode","period":"2026-02","values":{"CAR":2.5}`)), "", 422, "not_integer"},
		{"unknown mode", "", batch(entry(`"measure":"distance_monthly_km_by_mode","period":"2026-02","values":{"HORSE":3}`)), "", 422, "unknown_category"},
		{"shares", "", batch(entry(`"measure":"modal_share_monthly","period":"2026-02","values":{"CAR":0.5}`)), "", 422, "invalid_shares"},
		{"value for a map measure", "", batch(entry(`"measure":"trips_monthly_by_mode","period":"2026-02","value":3`)), "", 422, "wrong_value_shape"},
		{"value as a string", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":"46.15,-1.15"`)), "", 422, "invalid_type"},
		{"period before the study", "", batch(entry(`"measure":"co2_monthly_kg","period":"2025-12","value":1`)), "", 422, "period_outside_study"},
		{"period not ended", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-07","value":1`)), "", 422, "period_not_complete"},
		{"a day", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02-14","value":1`)), "", 422, "malformed_period"},
		{"a year for a monthly measure", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026","value":1`)), "", 422, "period_granularity"},
		{"coordinates", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1,"lat":46.16,"lon":-1.15`)), "", 422, "identifying_field"},
		{"a geometry", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1,"geometry":{"type":"Point","coordinates":[-1.15,46.16]}`)), "", 422, "identifying_field"},
		{"a date", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1,"start_date":"2026-02-14"`)), "", 422, "identifying_field"},
		{"free text", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1,"comment":"my commute to Rue X"`)), "", 422, "identifying_field"},
		{"unknown field", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1,"extra":1`)), "", 422, "unknown_field"},
		{"field beside the batch", "", `{"contributions":[` + good + `],"device":"phone"}`, "", 422, "identifying_field"},
		{"free-text profile", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1,"profile":{"age_band":"I am 37 and live in La Rochelle"}`)), "", 422, "profile_value_not_allowed"},
		{"profile field not offered", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1,"profile":{"employer":"acme"}`)), "", 422, "unknown_profile_field"},
		{"malformed pseudonym", "", `{"contributions":[` + strings.Replace(good, p, "alice", 1) + `]}`, "", 422, "malformed_pseudonym"},
		{"two pseudonyms", "", batch(strings.Replace(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1`), p, pseudonym(t), 1)), "", 422, "mixed_pseudonyms"},
		{"same period twice", "", batch(good), "", 422, "duplicate_contribution"},
		{"wrong study version", "", batch(strings.Replace(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1`), `"study_version":1`, `"study_version":2`, 1)), "", 409, "version_mismatch"},
		{"another study", "", `{"contributions":[` + strings.ReplaceAll(good, "mobility-2026", "co2-only") + `]}`, "", 422, "study_mismatch"},
		{"unknown study", "/studies/nope/contributions", batch(), "", 404, "unknown_study"},
		{"malformed JSON", "", `{"contributions":[` + good, "", 400, "malformed_json"},
		{"not an object", "", `[1,2]`, "", 422, "invalid_type"},
		{"empty", "", `{"contributions":[]}`, "", 422, "empty_batch"},
		{"too many", "", `{"contributions":[` + good + "," + strings.Join(many, ",") + `]}`, "", 413, "too_many_contributions"},
		{"oversized", "", batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1` + strings.Repeat(" ", MaxBodyBytes))), "", 413, "body_too_large"},
		{"not JSON", "", good, "text/plain", 415, "unsupported_media_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/studies/mobility-2026/contributions"
			}
			var h map[string]string
			if tc.ctype != "" {
				h = map[string]string{"Content-Type": tc.ctype}
			}
			r := e.do(http.MethodPost, path, []byte(tc.body), h)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if code := r.errorCode(t); code != tc.code {
				t.Fatalf("code %q, want %q: %s", code, tc.code, r.body)
			}
			if n := e.count("mobility-2026") + e.count("co2-only"); n != 0 {
				t.Fatalf("%d contributions stored from a bad batch", n)
			}
		})
	}
	// The error details name the field.
	r := e.do(http.MethodPost, "/studies/mobility-2026/contributions", []byte(batch(entry(`"measure":"co2_monthly_kg","period":"2026-02","value":1,"lat":46.16`))), nil)
	var body struct {
		Error apiError `json:"error"`
	}
	r.json(t, &body)
	if len(body.Error.Details) != 1 || body.Error.Details[0].Field != "contributions[1].lat" || !strings.Contains(body.Error.Details[0].Message, "coordinates") {
		t.Fatalf("details: %s", r.body)
	}
	// The version mismatch says which version is current.
	r = e.do(http.MethodPost, "/studies/mobility-2026/contributions", []byte(`{"contributions":[`+strings.Replace(good, `"study_version":1`, `"study_version":3`, 1)+`]}`), nil)
	r.json(t, &body)
	mustEqual(t, "current_version", body.Error.CurrentVersion, 1)
	// And the good contribution alone is stored.
	r = e.do(http.MethodPost, "/studies/mobility-2026/contributions", []byte(`{"contributions":[`+good+`]}`), nil)
	mustEqual(t, "good batch", r.status, http.StatusOK)
	mustEqual(t, "stored", e.count("mobility-2026"), 1)
}

// Close and reopen the same database: nothing lost, and the withdrawals hold.
func testRestart(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	var ps []string
	for i := 0; i < 6; i++ {
		p := pseudonym(t)
		ps = append(ps, p)
		e.mustPost(d.ID, co2(p, "2026-06", float64(i+1), age("45-59")),
			study.Contribution{StudyID: d.ID, StudyVersion: 1, Pseudonym: p, Measure: study.TripsMonthlyByPurpose,
				Period: study.Month(2026, time.June), Values: map[string]float64{"COMMUTE": float64(20 + i), "SHOPPING": 3}})
	}
	e.do(http.MethodDelete, "/studies/"+d.ID+"/participants/"+ps[0], nil, nil)
	before := e.do(http.MethodGet, "/studies/"+d.ID+"/aggregates?group=all,age_band", nil, admin())
	if e.store.Backend() == BackendSQLite {
		var mode string
		if err := e.store.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
		}
	}
	e.restart()
	after := e.do(http.MethodGet, "/studies/"+d.ID+"/aggregates?group=all,age_band", nil, admin())
	if after.status != http.StatusOK || !bytes.Equal(before.body, after.body) {
		t.Fatalf("aggregates changed across a restart:\n%s\n%s", before.body, after.body)
	}
	mustEqual(t, "stored contributions", e.count(d.ID), 10)
	r := e.do(http.MethodGet, "/studies/"+d.ID, nil, nil)
	var got study.Descriptor
	r.json(t, &got)
	if got.ID != d.ID || got.K != 5 || len(got.ProfileFields) != 1 {
		t.Fatalf("descriptor after restart: %+v", got)
	}
	r = e.post(d.ID, co2(ps[0], "2026-06", 1, nil))
	mustEqual(t, "withdrawn pseudonym after restart", r.status, http.StatusGone)
	// Resends after the restart still replace.
	s := e.mustPost(d.ID, co2(ps[1], "2026-06", 2, age("45-59")))
	mustEqual(t, "status", s.Stored[0].Status, study.EntryUnchanged)
	// Reopening migrates nothing twice.
	var n int
	if err := e.store.db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != SchemaVersion() {
		t.Fatalf("schema_migrations: %d rows, %v", n, err)
	}
}

func testRateLimit(t *testing.T, b backend) {
	e := newEnv(t, b, func(o *Options) { o.Rate, o.Burst = 0.5, 3 })
	d := testStudy()
	e.putStudy(d) // 1 token
	statuses := []int{}
	var last response
	for i := 0; i < 3; i++ {
		last = e.do(http.MethodGet, "/studies/"+d.ID, nil, nil)
		statuses = append(statuses, last.status)
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v, want 200 200 429", statuses)
	}
	mustEqual(t, "code", last.errorCode(t), string(study.CodeRateLimited))
	secs, err := strconv.Atoi(last.header.Get("Retry-After"))
	if err != nil || secs != 2 { // one token at 0.5 per second
		t.Fatalf("Retry-After %q, want 2", last.header.Get("Retry-After"))
	}
	if r := e.do(http.MethodGet, "/healthz", nil, nil); r.status != http.StatusOK {
		t.Fatalf("healthz is rate limited: %d", r.status)
	}
	e.clock.Advance(2 * time.Second)
	if r := e.do(http.MethodGet, "/studies/"+d.ID, nil, nil); r.status != http.StatusOK {
		t.Fatalf("after Retry-After: %d", r.status)
	}
	if r := e.do(http.MethodGet, "/studies/"+d.ID, nil, nil); r.status != http.StatusTooManyRequests {
		t.Fatalf("bucket empty again: %d", r.status)
	}
}

func testAdminToken(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	body, _ := json.Marshal(d)
	for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong-token-but-long-enough"}, {"Authorization": testToken}} {
		r := e.do(http.MethodPut, "/studies/"+d.ID, body, h)
		mustEqual(t, "PUT without the token", r.status, http.StatusUnauthorized)
		mustEqual(t, "code", r.errorCode(t), string(study.CodeUnauthorized))
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
		}
		r = e.do(http.MethodGet, "/studies/"+d.ID+"/aggregates", nil, h)
		mustEqual(t, "aggregates without the token", r.status, http.StatusUnauthorized)
	}
	r := e.do(http.MethodGet, "/studies/"+d.ID, nil, nil)
	mustEqual(t, "unknown study", r.status, http.StatusNotFound)
	e.putStudy(d)
	r = e.do(http.MethodGet, "/studies/"+d.ID+"/aggregates", nil, admin())
	mustEqual(t, "aggregates with the token", r.status, http.StatusOK)
	// Participants' routes need no token.
	e.mustPost(d.ID, co2(pseudonym(t), "2026-01", 1, nil))
	if _, err := NewServer(e.store, Options{AdminToken: "short"}); err == nil {
		t.Fatal("a short admin token is accepted")
	}
}

func testStudyVersions(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	put := func(d *study.Descriptor, path string) response {
		body, _ := json.Marshal(d)
		if path == "" {
			path = "/studies/" + d.ID
		}
		return e.do(http.MethodPut, path, body, admin())
	}
	r := put(d, "")
	mustEqual(t, "create", r.status, http.StatusCreated)
	r = put(d, "")
	mustEqual(t, "same again", r.status, http.StatusOK)
	if !bytes.Contains(r.body, []byte(`"unchanged"`)) {
		t.Fatalf("same again: %s", r.body)
	}
	changed := testStudy()
	changed.K = 10
	r = put(changed, "")
	mustEqual(t, "same version, other content", r.status, http.StatusConflict)
	mustEqual(t, "code", r.errorCode(t), string(study.CodeVersionConflict))
	r = put(d, "/studies/other-id")
	mustEqual(t, "id mismatch", r.status, http.StatusBadRequest)
	bad := testStudy()
	bad.CollectorURL, bad.K, bad.Measures = "http://collector.example.org", 1, []study.MeasureID{"steps"}
	r = put(bad, "")
	mustEqual(t, "invalid descriptor", r.status, http.StatusUnprocessableEntity)
	for _, want := range []string{"insecure_url", "k_too_small", "unknown_measure"} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Fatalf("invalid descriptor: %s lacks %s", r.body, want)
		}
	}
	r = e.do(http.MethodPut, "/studies/"+d.ID, []byte(`{"id":"mobility-2026","kmin":5}`), admin())
	mustEqual(t, "misspelt field", r.status, http.StatusUnprocessableEntity)

	p := pseudonym(t)
	e.mustPost(d.ID, co2(p, "2026-01", 1, nil))
	v2 := testStudy()
	v2.Version = 2
	r = put(v2, "")
	mustEqual(t, "new version", r.status, http.StatusOK)
	r = put(d, "")
	mustEqual(t, "lower version", r.status, http.StatusConflict)
	r = e.post(d.ID, co2(p, "2026-02", 1, nil))
	mustEqual(t, "contribution under the old version", r.status, http.StatusConflict)
	mustEqual(t, "code", r.errorCode(t), string(study.CodeVersionMismatch))
	c := co2(p, "2026-02", 1, nil)
	c.StudyVersion = 2
	e.mustPost(d.ID, c)
	a := e.aggregates(d.ID, "")
	mustEqual(t, "answer's version", a.StudyVersion, 2)
	r = e.do(http.MethodPost, "/studies/"+d.ID, nil, nil)
	mustEqual(t, "POST on a study", r.status, http.StatusMethodNotAllowed)
}

func testRetention(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy() // 12 months
	e.putStudy(d)
	old, recent := pseudonym(t), pseudonym(t)
	e.mustPost(d.ID, co2(old, "2026-01", 1, nil), co2(old, "2026-02", 1, nil)) // received 2026-07-15
	e.clock.Advance(40 * 24 * time.Hour)                                       // 2026-08-24
	e.mustPost(d.ID, co2(recent, "2026-01", 1, nil))
	e.do(http.MethodDelete, "/studies/"+d.ID+"/participants/"+old, nil, nil) // withdrawal recorded 2026-08-24
	e.mustPost(d.ID, co2(pseudonym(t), "2026-03", 1, nil))
	ctx := t.Context()
	// Nothing is old enough yet.
	purged, err := e.store.Purge(ctx, e.clock.Now())
	if err != nil || len(purged) != 1 || purged[0].Contributions != 0 {
		t.Fatalf("purge now: %+v, %v", purged, err)
	}
	stored := e.count(d.ID)
	mustEqual(t, "stored", stored, 2)
	// 12 months after 2026-08-24: the day itself is kept, the day after it is gone.
	purged, err = e.store.Purge(ctx, time.Date(2027, 8, 24, 23, 0, 0, 0, time.UTC))
	if err != nil || purged[0].Contributions != 0 {
		t.Fatalf("purge on the last day: %+v, %v", purged, err)
	}
	purged, err = e.store.Purge(ctx, time.Date(2027, 8, 25, 0, 0, 0, 0, time.UTC))
	if err != nil || purged[0].Contributions != 2 || purged[0].Withdrawals != 1 {
		t.Fatalf("purge a day later: %+v, %v", purged, err)
	}
	mustEqual(t, "stored", e.count(d.ID), 0)
	// RunRetention purges at once and stops with its context.
	e.mustPost(d.ID, co2(pseudonym(t), "2026-04", 1, nil))
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	purgedLog := &notifyHandler{msg: "retention purge", seen: make(chan struct{}, 1)}
	go func() {
		RunRetention(ctx, e.store, time.Hour, func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }, slog.New(purgedLog))
		close(done)
	}()
	<-purgedLog.seen // logged after the purge committed
	mustEqual(t, "stored after RunRetention", e.count(d.ID), 0)
	cancel()
	<-done
}

func testCSV(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	for _, v := range []float64{1, 2, 3, 4, 5} {
		e.mustPost(d.ID, co2(pseudonym(t), "2026-02", v, nil))
	}
	for _, how := range []struct {
		query  string
		header map[string]string
	}{
		{"measure=co2_monthly_kg&period=2026-02,2026-03&format=csv", admin()},
		{"measure=co2_monthly_kg&period=2026-02,2026-03", map[string]string{"Authorization": "Bearer " + testToken, "Accept": "text/csv"}},
	} {
		r := e.do(http.MethodGet, "/studies/"+d.ID+"/aggregates?"+how.query, nil, how.header)
		mustEqual(t, "status", r.status, http.StatusOK)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"study_id", "study_version", "k", "measure", "unit", "period", "group", "group_value", "category", "suppressed", "count", "sum", "mean", "median", "q1", "q3"},
			{"mobility-2026", "1", "5", "co2_monthly_kg", "kgCO2e", "2026-02", "all", "", "", "false", "5", "15", "3", "3", "2", "4"},
			{"mobility-2026", "1", "5", "co2_monthly_kg", "kgCO2e", "2026-03", "all", "", "", "true", "", "", "", "", "", ""},
		}
		if fmt.Sprint(recs) != fmt.Sprint(want) {
			t.Fatalf("CSV:\n%v\nwant\n%v", recs, want)
		}
	}
	r := e.do(http.MethodGet, "/studies/"+d.ID+"/aggregates", nil, map[string]string{"Authorization": "Bearer " + testToken, "Accept": "application/json, text/csv"})
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("JSON preferred: Content-Type %q", r.header.Get("Content-Type"))
	}

	// Profile values may start with + or -: a spreadsheet must read them as text, not formulas.
	h := testStudy()
	h.ID = "hostile-values"
	h.ProfileFields[0].Values = []string{"-1+1", "+A1+A2", "18-29"}
	e.putStudy(h)
	for _, v := range []float64{1, 2, 3, 4, 5} {
		c := co2(pseudonym(t), "2026-02", v, age("-1+1"))
		c.StudyID = h.ID
		e.mustPost(h.ID, c)
	}
	r = e.do(http.MethodGet, "/studies/"+h.ID+"/aggregates?measure=co2_monthly_kg&period=2026-02&group=age_band&format=csv", nil, admin())
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"study_id", "study_version", "k", "measure", "unit", "period", "group", "group_value", "category", "suppressed", "count", "sum", "mean", "median", "q1", "q3"},
		{"hostile-values", "1", "5", "co2_monthly_kg", "kgCO2e", "2026-02", "age_band", "'-1+1", "", "false", "5", "15", "3", "3", "2", "4"},
		{"hostile-values", "1", "5", "co2_monthly_kg", "kgCO2e", "2026-02", "age_band", "'+A1+A2", "", "true", "", "", "", "", "", ""},
		{"hostile-values", "1", "5", "co2_monthly_kg", "kgCO2e", "2026-02", "age_band", "18-29", "", "true", "", "", "", "", "", ""},
	}
	if fmt.Sprint(recs) != fmt.Sprint(want) {
		t.Fatalf("CSV with hostile profile values:\n%q\nwant\n%q", recs, want)
	}
}

func testAggregatesQuery(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	for _, q := range []string{"measure=steps", "group=employer", "group=age_band=37", "group=age_band=60+", "period=2026-1", "format=xml", "measures=co2_monthly_kg"} {
		r := e.do(http.MethodGet, "/studies/"+d.ID+"/aggregates?"+q, nil, admin())
		mustEqual(t, q, r.status, http.StatusBadRequest)
		mustEqual(t, "code", r.errorCode(t), string(study.CodeInvalidQuery))
	}
	r := e.do(http.MethodGet, "/studies/nope/aggregates", nil, admin())
	mustEqual(t, "unknown study", r.status, http.StatusNotFound)
	// A year selects its months for monthly measures, and itself for yearly ones.
	a := e.aggregates(d.ID, "period=2026")
	for _, s := range a.Suppressed {
		if s.Period.Year != 2026 {
			t.Fatalf("period %s answered for 2026", s.Period)
		}
		if s.Measure == study.BikeCommuteDaysYearly {
			t.Fatal("2026 has not ended: no yearly aggregate for it")
		}
	}
	if !suppressed(a, study.TripsMonthlyByPurpose, "2026-06", GroupAll, "") {
		t.Fatalf("June 2026 not answered for period=2026: %+v", a.Suppressed)
	}
}

// Concurrent batches on one database all land.
func testConcurrent(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := randomHex(16)
			body, _ := json.Marshal(study.Batch{Contributions: []study.Contribution{co2(p, "2026-01", 1, nil), co2(p, "2026-02", 2, nil)}})
			resp, err := e.client.Post(e.srv.URL+"/studies/"+d.ID+"/contributions", "application/json", bytes.NewReader(body))
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- resp.Status
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustEqual(t, "stored", e.count(d.ID), 2*n)
}

// The logs hold routes and statuses, never a pseudonym or a value.
func testLogs(t *testing.T, b backend) {
	e := newEnv(t, b)
	d := testStudy()
	e.putStudy(d)
	p := pseudonym(t)
	e.mustPost(d.ID, co2(p, "2026-01", 123.456, nil))
	e.do(http.MethodDelete, "/studies/"+d.ID+"/participants/"+p, nil, nil)
	e.do(http.MethodPost, "/studies/"+d.ID+"/contributions", []byte(`{"contributions":[{"pseudonym":"`+p+`","lat":1}]}`), nil)
	logs := e.logs.String()
	if strings.Contains(logs, p) || strings.Contains(logs, "123.456") || strings.Contains(logs, "127.0.0.1") {
		t.Fatalf("logs hold a pseudonym, a value or an address:\n%s", logs)
	}
	if !strings.Contains(logs, `"route":"/studies/{id}/participants/{pseudonym}"`) {
		t.Fatalf("logs lack the withdrawal's route:\n%s", logs)
	}
}
