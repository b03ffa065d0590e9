package collector

import (
	"bytes"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/study"
)

// onDisk returns the bytes of a SQLite database: its file, WAL and shared-memory index.
func onDisk(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// traces are the strings a contribution leaves in the database: its pseudonym, its value and its
// profile, as the store writes them.
func traces(p string, value float64, band string) []string {
	return []string{p, strconv.FormatFloat(value, 'f', -1, 64), `"age_band":"` + band + `"`}
}

func checkTraces(t *testing.T, disk []byte, traces []string, want bool) {
	t.Helper()
	for _, s := range traces {
		if got := bytes.Contains(disk, []byte(s)); got != want {
			if want {
				t.Fatalf("%q is not in the database's files: the test reads the wrong bytes", s)
			}
			t.Errorf("%q is still in the database's files", s)
		}
	}
}

// erasingStudy is the test study with a profile value only the erased participant gives.
func erasingStudy() *study.Descriptor {
	d := testStudy()
	d.ProfileFields[0].Values = append(d.ProfileFields[0].Values, "Zq7-erased")
	return d
}

// After a withdrawal answers, nothing of the pseudonym's contributions can be read from the
// SQLite file or its WAL: not the pseudonym (in the table and its primary-key index), not the
// values, not the profile. The others' contributions are still there.
func TestSQLiteWithdrawalErasesBytes(t *testing.T) {
	e := newEnv(t, sqliteBackend())
	d := erasingStudy()
	e.putStudy(d)
	kept := pseudonym(t)
	e.mustPost(d.ID, co2(kept, "2026-01", 2468.125, age("30-44")))
	gone := pseudonym(t)
	e.mustPost(d.ID, co2(gone, "2026-01", 4321.987654, age("Zq7-erased")),
		co2(gone, "2026-02", 1357.246813, age("Zq7-erased")),
		study.Contribution{StudyID: d.ID, StudyVersion: 1, Pseudonym: gone, Measure: study.TripsMonthlyByPurpose,
			Period: study.Month(2026, time.March), Values: map[string]float64{"WORK": 2917}})
	goneTraces := append(traces(gone, 4321.987654, "Zq7-erased"), "1357.246813", `"WORK":2917`)
	// Enough rows of the pseudonym to fill whole pages, which the withdrawal frees.
	var many []study.Contribution
	for m := time.January; m <= time.June; m++ {
		for _, measure := range []study.MeasureID{study.DistanceMonthlyByMode, study.TripsMonthlyByMode} {
			vals := map[string]float64{}
			for i, mode := range study.Modes() {
				v := float64(100*int(m) + i + 11) // a whole number of trips
				if measure == study.DistanceMonthlyByMode {
					v = float64(1000*int(m)+10*i) + 7.123457
				}
				vals[mode] = v
				goneTraces = append(goneTraces, `"`+mode+`":`+strconv.FormatFloat(v, 'f', -1, 64))
			}
			many = append(many, study.Contribution{StudyID: d.ID, StudyVersion: 1, Pseudonym: gone, Measure: measure,
				Period: study.Month(2026, m), Values: vals, Profile: age("Zq7-erased")})
		}
	}
	e.mustPost(d.ID, many...)
	e.mustPost(d.ID, co2(pseudonym(t), "2026-01", 3, nil)) // a row after them: their pages are not the last
	keptTraces := traces(kept, 2468.125, "30-44")
	checkTraces(t, onDisk(t, e.dsn), append(goneTraces, keptTraces...), true)

	r := e.do(http.MethodDelete, "/studies/"+d.ID+"/participants/"+gone, nil, nil)
	mustEqual(t, "DELETE status", r.status, http.StatusOK)
	disk := onDisk(t, e.dsn) // the store is still open: the bytes must be gone now
	checkTraces(t, disk, goneTraces, false)
	checkTraces(t, disk, keptTraces, true)
	var free int
	if err := e.store.db.QueryRow("PRAGMA freelist_count").Scan(&free); err != nil || free == 0 {
		t.Fatalf("freelist_count %d, %v: the withdrawal freed no page, so the test does not cover freed pages", free, err)
	}
}

// Retention deletes erase the bytes too.
func TestSQLiteRetentionErasesBytes(t *testing.T) {
	e := newEnv(t, sqliteBackend())
	d := erasingStudy()
	e.putStudy(d)
	old := pseudonym(t)
	e.mustPost(d.ID, co2(old, "2026-01", 8642.135791, age("Zq7-erased"))) // received 2026-07-15
	e.clock.Advance(60 * 24 * time.Hour)
	recent := pseudonym(t)
	e.mustPost(d.ID, co2(recent, "2026-02", 9753.102468, age("60+")))
	oldTraces, recentTraces := traces(old, 8642.135791, "Zq7-erased"), traces(recent, 9753.102468, "60+")
	checkTraces(t, onDisk(t, e.dsn), append(oldTraces, recentTraces...), true)

	purged, err := e.store.Purge(t.Context(), time.Date(2027, 8, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || purged[0].Contributions != 1 {
		t.Fatalf("purge: %+v, %v", purged, err)
	}
	disk := onDisk(t, e.dsn)
	checkTraces(t, disk, oldTraces, false)
	checkTraces(t, disk, recentTraces, true)
}
