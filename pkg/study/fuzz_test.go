package study

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// FuzzParseBatch feeds arbitrary bodies to the parser: it must never panic, must report failures
// as Errors, and every contribution it accepts that validates must survive a JSON round trip
// unchanged. The seed corpus is in testdata/fuzz/FuzzParseBatch.
func FuzzParseBatch(f *testing.F) {
	f.Add([]byte(`{"contributions":[{"study_id":"mobility-2026","study_version":1,"pseudonym":"0123456789abcdef0123456789abcdef","measure":"co2_monthly_kg","period":"2026-03","value":12.5}]}`))
	f.Add([]byte(`{"contributions":[{"study_id":"mobility-2026","study_version":1,"pseudonym":"0123456789abcdef0123456789abcdef","measure":"modal_share_monthly","period":"2026-03","values":{"CAR":0.5,"BICYCLING":0.5},"profile":{"age_band":"30-44"}}]}`))
	f.Add([]byte(`{"contributions":[{"lat":46.1,"lon":-1.1}]}`))
	f.Add([]byte(`{"contributions":[]}`))
	f.Add([]byte(`[`))
	d := &Descriptor{ID: "mobility-2026", Version: 1, Title: "t", Institution: "i", Contact: "c", Purpose: Text{FR: "f", EN: "e"},
		CollectorURL: "https://c.example.org", Measures: MeasureIDs(), Period: Span{From: Month(2026, 1), To: Month(2026, 12)},
		RetentionMonths: 12, K: 5, ProfileFields: []ProfileField{{Name: "age_band", Label: Text{FR: "a", EN: "a"}, Values: []string{"30-44"}}}}
	if err := d.Validate(); err != nil {
		f.Fatal(err)
	}
	now := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBatch(data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v is not a non-empty Errors", err)
			}
			for _, e := range es {
				if e.Code == "" || e.Message == "" || len(e.Message) > 2000 {
					t.Fatalf("bad error %+v", e)
				}
			}
			return
		}
		if len(b.Contributions) == 0 || len(b.Contributions) > MaxBatchEntries {
			t.Fatalf("accepted a batch of %d", len(b.Contributions))
		}
		_ = d.CheckBatch(b, now) // must not panic
		for _, c := range b.Contributions {
			if c.Validate() != nil {
				continue
			}
			out, err := json.Marshal(c)
			if err != nil {
				t.Fatalf("valid contribution does not marshal: %v", err)
			}
			again, err := ParseContribution(out)
			if err != nil {
				t.Fatalf("re-parse %s: %v", out, err)
			}
			if !reflect.DeepEqual(c, again) {
				t.Fatalf("round trip:\n%+v\n%+v", c, again)
			}
			if len(c.Cells()) == 0 && c.Value != nil {
				t.Fatalf("no cells for %s", out)
			}
		}
	})
}
