package vault

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestSpliceIDRevIsTheSlowPath: the fast path of withIDRev gives the same object as decoding and
// encoding it, and leaves to the slow path what it cannot splice.
func TestSpliceIDRevIsTheSlowPath(t *testing.T) {
	for _, raw := range []string{`{}`, ` { } `, `{"a":1}`, `{"b":"x","c":[1,{"_id":"nested"}]}`, `{"_id":"x","a":1}`, `{"a":1,"_rev":"1-a"}`, `[1]`, `"s"`} {
		for _, rev := range []string{"", "0-3"} {
			fast, ok := spliceIDRev([]byte(raw), "_local/doc", rev)
			slow, err := setIDRev([]byte(raw), "_local/doc", rev)
			if err != nil {
				if ok {
					t.Errorf("%s: spliced what is not an object", raw)
				}
				continue
			}
			if !ok {
				if o, _ := parseObject([]byte(raw)); o.vals["_id"] == nil && o.vals["_rev"] == nil {
					t.Errorf("%s: not spliced", raw)
				}
				continue
			}
			var a, b map[string]any
			if err := json.Unmarshal(fast, &a); err != nil {
				t.Fatalf("%s: spliced into invalid JSON %s", raw, fast)
			}
			_ = json.Unmarshal(slow, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s, rev %q: spliced %s, want %s", raw, rev, fast, slow)
			}
		}
	}
}

// FuzzSpliceIDRev: whatever the document, the fast path never panics; on a JSON object it gives
// the slow path's object or leaves it to the slow path, and it never splices an object that has
// an "_id" or "_rev" member, however its key is spelt.
func FuzzSpliceIDRev(f *testing.F) {
	for _, seed := range []string{`{}`, `{"a":1}`, `{"b":"x","c":[1,{"_id":"nested"}]}`, `{"_id":"x","a":1}`,
		`{"a":1,"_rev":"1-a"}`, `{"\u005fid":"x"}`, `{"a":"\"}\\","_rev":"1-a"}`, `{"codec":2,"b":"AAAA"}`, `{"a":tru}`, `{"a":[}`, `{"a"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		fast, ok := spliceIDRev([]byte(raw), "_local/doc", "0-3")
		slow, err := setIDRev([]byte(raw), "_local/doc", "0-3")
		if !ok || err != nil || !json.Valid([]byte(raw)) {
			return // not an object the store takes: it refuses what the fast path spliced
		}
		var a, b map[string]any
		if err := json.Unmarshal(fast, &a); err != nil {
			t.Fatalf("%s: spliced into invalid JSON %s", raw, fast)
		}
		_ = json.Unmarshal(slow, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: spliced %s, want %s", raw, fast, slow)
		}
		var members map[string]json.RawMessage
		if json.Unmarshal([]byte(raw), &members) == nil && (members["_id"] != nil || members["_rev"] != nil) {
			t.Fatalf("%s: spliced, though it has an _id or a _rev", raw)
		}
	})
}
