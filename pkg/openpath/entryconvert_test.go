package openpath_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/sampledata"
)

// TestFromCompositeEntry: an entry FindEntries returned converts to the very document FromComposite
// makes of its bytes, whether the answer was validated whole (the usual answer) or read by
// encoding/json's decoder (a key with an escape); an Entry made by hand is validated, as by
// FromComposite.
func TestFromCompositeEntry(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sampledata.Dir(t), "composite", "*.json"))
	if len(files) == 0 {
		t.Fatal("no composite samples")
	}
	for _, field := range []string{`"phone_data"`, `"phone\u005fdata"`} {
		for _, f := range files {
			list, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			answer := append(append([]byte(`{`+field+`: `), list...), '}')
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write(answer)
			}))
			entries, err := newClient(t, srv.URL, "tok").FindEntries(t.Context(), openpath.EntryQuery{Keys: []string{openpath.KeyCompositeTrip}})
			srv.Close()
			if err != nil || len(entries) == 0 {
				t.Fatalf("%s: %d entries, %v", f, len(entries), err)
			}
			for _, e := range entries {
				got, gerr := openpath.FromCompositeEntry(e, origin, now)
				want, werr := openpath.FromComposite(e.Raw, origin, now)
				gotJSON, _ := json.Marshal(got)
				wantJSON, _ := json.Marshal(want)
				if (gerr == nil) != (werr == nil) || !bytes.Equal(gotJSON, wantJSON) {
					t.Fatalf("%s, entry %s: FromCompositeEntry gives %v (%.200s), FromComposite %v (%.200s)", f, e.ID, gerr, gotJSON, werr, wantJSON)
				}
			}
		}
	}
	for _, raw := range []string{`{"_id": {"$oid": "5f1a"}, "data": {"start_ts": 1, "end_ts": 2`, `{"data": [}`, `nul`} {
		if _, err := openpath.FromCompositeEntry(openpath.Entry{Raw: []byte(raw)}, origin, now); !errors.Is(err, openpath.ErrInvalidTrip) {
			t.Errorf("FromCompositeEntry(%q) = %v, want ErrInvalidTrip", raw, err)
		}
	}
}
