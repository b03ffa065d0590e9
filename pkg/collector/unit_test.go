package collector

import (
	"bytes"
	"encoding/csv"
	"fmt"
	mathrand "math/rand/v2"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/study"
)

// Hand-computed quantiles, R type 7: h = (n-1)p, Q = x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1]-x[⌊h⌋]).
func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want Summary
	}{
		// n = 1: every quantile is the value.
		{[]float64{7}, Summary{Count: 1, Sum: 7, Mean: 7, Median: 7, Q1: 7, Q3: 7}},
		// n = 4, [1 2 3 4]: Q1 h=0.75 → 1.75; median h=1.5 → 2.5; Q3 h=2.25 → 3.25.
		{[]float64{4, 1, 3, 2}, Summary{Count: 4, Sum: 10, Mean: 2.5, Median: 2.5, Q1: 1.75, Q3: 3.25}},
		// n = 5, [10 20 30 40 100]: h = 1, 2, 3 exactly.
		{[]float64{100, 10, 40, 20, 30}, Summary{Count: 5, Sum: 200, Mean: 40, Median: 30, Q1: 20, Q3: 40}},
		// n = 7, [0 0 1 2 3 5 8]: Q1 h=1.5 → 0.5; median h=3 → 2; Q3 h=4.5 → 4.
		{[]float64{8, 5, 3, 2, 1, 0, 0}, Summary{Count: 7, Sum: 19, Mean: 19.0 / 7, Median: 2, Q1: 0.5, Q3: 4}},
	} {
		got := Summarize(tc.xs)
		if got.Count != tc.want.Count || !approx(got.Sum, tc.want.Sum) || !approx(got.Mean, tc.want.Mean) ||
			!approx(got.Median, tc.want.Median) || !approx(got.Q1, tc.want.Q1) || !approx(got.Q3, tc.want.Q3) {
			t.Errorf("Summarize: got %+v, want %+v", got, tc.want)
		}
	}
	if s := Summarize(nil); s != (Summary{}) {
		t.Errorf("empty: %+v", s)
	}
}

func TestPublishable(t *testing.T) {
	for _, tc := range []struct {
		total, k int
		sizes    []int
		// ks are the k each group's members consented under (the study's k when nil); restK the
		// remainder's.
		ks    []int
		restK int
		want  string
	}{
		{4, 5, []int{4, 0}, nil, 0, "--"},          // "all" below k: nothing
		{5, 5, []int{5, 0}, nil, 0, "P-"},          // exact
		{9, 5, []int{5, 4}, nil, 0, "--"},          // 9-5 = 4 would reveal the group of 4
		{10, 5, []int{5, 5}, nil, 0, "PP"},         // nothing hidden
		{12, 5, []int{5, 5}, nil, 0, "-P"},         // remainder 2 (no band given): withdraw one of the bands
		{15, 5, []int{5, 5}, nil, 0, "PP"},         // remainder 5
		{20, 5, []int{6, 5, 3, 6}, nil, 0, "P--P"}, // remainder 3: withdraw the smallest published (5) → 8
		// k lowered to 2 after some consented under k = 5.
		{4, 2, []int{4, 0}, []int{5, 2}, 0, "--"},         // "all" holds k=5 members: 4 < 5
		{6, 2, []int{3, 3}, []int{2, 5}, 0, "--"},         // the k=5 group of 3 hides, and would be all - the other: withdraw it too
		{8, 2, []int{3, 3}, []int{2, 2}, 5, "-P"},         // remainder of 2 sent under k = 5: withdraw a band → remainder 5
		{10, 2, []int{3, 2}, []int{2, 2}, 5, "PP"},        // remainder of 5 sent under k = 5: fine
		{9, 2, []int{3, 2, 4}, []int{2, 2, 5}, 0, "P--"},  // the k=5 group of 4 hides; withdraw the smallest (2) → remainder 6
		{12, 2, []int{5, 2, 5}, []int{5, 2, 2}, 0, "PPP"}, // a group of 5 sent under k = 5 is published
		{14, 2, []int{5, 4, 5}, []int{5, 5, 2}, 0, "--P"}, // a group of 4 sent under k = 5 hides, and all - the others would show it
		{10, 2, []int{2, 2, 2}, []int{2, 2, 2}, 3, "PPP"}, // remainder of 4 sent under k = 3: fine
	} {
		var all []row
		ms := make([][]row, len(tc.sizes))
		for i, n := range tc.sizes {
			k := tc.k
			if tc.ks != nil {
				k = tc.ks[i]
			}
			for j := 0; j < n; j++ {
				r := row{pseudonym: fmt.Sprintf("g%d-%d", i, j), k: k}
				ms[i] = append(ms[i], r)
				all = append(all, r)
			}
		}
		for j := len(all); j < tc.total; j++ {
			all = append(all, row{pseudonym: fmt.Sprintf("r%d", j), k: max(tc.restK, tc.k)})
		}
		got := ""
		for _, p := range publishable(all, tc.k, ms) {
			if p {
				got += "P"
			} else {
				got += "-"
			}
		}
		if got != tc.want {
			t.Errorf("total %d, k %d, sizes %v, ks %v, rest k %d: %s, want %s", tc.total, tc.k, tc.sizes, tc.ks, tc.restK, got, tc.want)
		}
	}
}

// Random groups, remainders and consented k: every set one answer isolates — "all", each
// published group, and the participants outside the published groups — is empty or at least the
// highest k its members consented under (and the study's k).
func TestPublishableInvariant(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	ks := []int{2, 3, 5, 8}
	for n := 0; n < 5000; n++ {
		k := ks[rng.IntN(len(ks))]
		var all []row
		ms := make([][]row, 1+rng.IntN(4))
		add := func(i int) row {
			r := row{pseudonym: strconv.Itoa(len(all)), k: ks[rng.IntN(len(ks))]}
			all = append(all, r)
			if i >= 0 {
				ms[i] = append(ms[i], r)
			}
			return r
		}
		for i := range ms {
			for j := rng.IntN(10); j > 0; j-- {
				add(i)
			}
		}
		for j := rng.IntN(7); j > 0; j-- {
			add(-1)
		}
		pub := publishable(all, k, ms)
		inPublished := 0
		for i, p := range pub {
			if !p {
				continue
			}
			inPublished += len(ms[i])
			if len(ms[i]) < minSize(k, ms[i]) || len(all) < minSize(k, all) {
				t.Fatalf("case %d: group %d of %d published under k %d: %+v", n, i, len(ms[i]), minSize(k, ms[i]), ms)
			}
		}
		var rest []row
		for _, e := range all {
			found := false
			for i, m := range ms {
				found = found || pub[i] && slices.ContainsFunc(m, func(x row) bool { return x.pseudonym == e.pseudonym })
			}
			if !found {
				rest = append(rest, e)
			}
		}
		if inPublished > 0 && len(rest) > 0 && len(rest) < minSize(k, rest) {
			t.Fatalf("case %d: the %d outside the published groups need %d: %v, %+v", n, len(rest), minSize(k, rest), pub, ms)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(1, 2, func() time.Time { return now })
	for i, want := range []bool{true, true, false} {
		if ok, _ := l.allow("a"); ok != want {
			t.Fatalf("request %d: %v", i, ok)
		}
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("another client shares the bucket")
	}
	_, wait := l.allow("a")
	if wait != time.Second {
		t.Fatalf("wait %v", wait)
	}
	now = now.Add(500 * time.Millisecond)
	if _, wait := l.allow("a"); wait != 500*time.Millisecond {
		t.Fatalf("wait %v", wait)
	}
	now = now.Add(2 * time.Minute)
	l.allow("c")
	if l.keys.Len() != 1 { // a and b refilled and were forgotten
		t.Fatalf("%d buckets kept", l.keys.Len())
	}
}

func TestClientKey(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.1")
	if got := clientKey(r, false); got != "192.0.2.7" {
		t.Errorf("direct: %s", got)
	}
	if got := clientKey(r, true); got != "198.51.100.1" {
		t.Errorf("forwarded: %s", got)
	}
	r.RemoteAddr = "[2001:db8:1:2:3:4:5:6]:5555"
	if got := clientKey(r, false); got != "2001:db8:1:2::/64" {
		t.Errorf("IPv6: %s", got)
	}
}

func TestRedactDSN(t *testing.T) {
	got := RedactDSN("postgres://collector:s3cret@db.example.org:5432/collector?sslmode=require")
	if strings.Contains(got, "s3cret") || got != "postgres://db.example.org:5432/collector" {
		t.Errorf("RedactDSN: %s", got)
	}
	if got := RedactDSN("file:/var/lib/collector.db"); got != "/var/lib/collector.db" {
		t.Errorf("RedactDSN: %s", got)
	}
	if !IsPostgres("postgresql://x/y") || !IsPostgres("POSTGRES://x") || IsPostgres("/tmp/postgres://x") {
		t.Error("IsPostgres")
	}
}

// WriteCSV neutralises every text cell that a spreadsheet would run as a formula, and leaves
// numbers, negative ones too, as numbers.
func TestWriteCSVNeutralisesFormulas(t *testing.T) {
	res := &Aggregates{StudyID: "s1", StudyVersion: 2, K: 5, Aggregates: []Aggregate{{
		Measure: "=HYPERLINK(\"https://evil.example\")", Unit: "@SUM(A1)", Period: study.Month(2026, time.March),
		Group: "+cmd", GroupValue: "-1+1", Category: "\t=1", Count: 5, Sum: -3.5, Mean: -0.7, Median: 0, Q1: -1, Q3: 1e-7}}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"s1", "2", "5", "'=HYPERLINK(\"https://evil.example\")", "'@SUM(A1)", "2026-03", "'+cmd", "'-1+1", "'\t=1",
		"false", "5", "-3.5", "-0.7", "0", "-1", "0.0000001"}
	if fmt.Sprintf("%q", recs[1]) != fmt.Sprintf("%q", want) {
		t.Fatalf("CSV row\n%q\nwant\n%q", recs[1], want)
	}
}
