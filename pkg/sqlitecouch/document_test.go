package sqlitecouch

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestDocumentRoundTrip(t *testing.T) {
	d, err := parseDocumentJSON([]byte(`{"_id": "x", "b": 1, "_rev": "1-abc", "a": {"_c": 2}, "_deleted": false}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.id != "x" || d.rev != "1-abc" || d.deleted {
		t.Fatalf("specials: %+v", d)
	}
	if got := string(d.body()); got != `{"b":1,"a":{"_c": 2}}` {
		t.Fatalf("body %s: specials removed, member order kept", got)
	}
	if got := string(withSpecials("x", "2-def", true, d.body())); got != `{"_id":"x","_rev":"2-def","_deleted":true,"b":1,"a":{"_c": 2}}` {
		t.Fatalf("read form %s", got)
	}
	if got := string(withSpecials("y", "1-a", false, []byte(`{}`))); got != `{"_id":"y","_rev":"1-a"}` {
		t.Fatalf("empty body %s", got)
	}
}

// FuzzDocument: any input is either refused with an error or stored as a body that is valid JSON
// and reads back to the same members.
func FuzzDocument(f *testing.F) {
	f.Add(`{"_id": "a", "x": [1, {"y": null}]}`)
	f.Add(`{"_rev": 3}`)
	f.Add(`{"a": 1} {"b": 2}`)
	f.Add(`{"\u00e9\"": "\\"}`)
	f.Fuzz(func(t *testing.T, in string) {
		// parseObject's fast path cuts what encoding/json's decoder reads, and refuses the same.
		fast, ferr := parseObject([]byte(in))
		slow, serr := parseObjectSlowly([]byte(in))
		if (ferr == nil) != (serr == nil) || len(fast) != len(slow) {
			t.Fatalf("parseObject: %d members, %v; the decoder: %d, %v", len(fast), ferr, len(slow), serr)
		}
		for i := range fast {
			if fast[i].key != slow[i].key || !bytes.Equal(fast[i].raw, slow[i].raw) {
				t.Fatalf("member %d: %q: %s; the decoder: %q: %s", i, fast[i].key, fast[i].raw, slow[i].key, slow[i].raw)
			}
		}
		d, err := parseDocumentJSON([]byte(in))
		if err != nil {
			return
		}
		body := d.body()
		if !json.Valid(body) {
			t.Fatalf("body %q is not JSON", body)
		}
		again, err := parseDocumentJSON(body)
		if err != nil || len(again.members) != len(d.members) {
			t.Fatalf("body %q does not read back: %v", body, err)
		}
		for i := range d.members {
			if again.members[i].key != d.members[i].key || !bytes.Equal(again.members[i].raw, d.members[i].raw) {
				t.Fatalf("member %d differs after a round trip", i)
			}
		}
		if !json.Valid(withSpecials(d.id, "1-x", d.deleted, body)) {
			t.Fatalf("read form of %q is not JSON", in)
		}
	})
}
