package sqlitecouch

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// member is one top-level member of a JSON object, its value kept as raw JSON.
type member struct {
	key string
	raw json.RawMessage
}

// document is a document as a client wrote it, its special members (_id, _rev, _deleted) taken
// out of the body. The body keeps the client's member order.
type document struct {
	id      string
	rev     string
	deleted bool
	members []member
}

// ignoredSpecials are special members CouchDB accepts on write and that carry nothing we store.
var ignoredSpecials = map[string]bool{
	"_revisions": true, "_revs_info": true, "_conflicts": true, "_deleted_conflicts": true, "_local_seq": true,
}

// parseDocument reads a document given to Put, CreateDoc or BulkDocs.
func parseDocument(doc any) (*document, error) {
	raw, err := toJSON(doc)
	if err != nil {
		return nil, errBadRequest("document is not JSON: %v", err)
	}
	return parseDocumentJSON(raw)
}

func toJSON(v any) ([]byte, error) {
	switch t := v.(type) {
	case json.RawMessage:
		return t, nil
	case []byte:
		return t, nil
	case string:
		return []byte(t), nil
	case io.Reader:
		return io.ReadAll(t)
	}
	return json.Marshal(v)
}

func parseDocumentJSON(raw []byte) (*document, error) {
	members, err := parseObject(raw)
	if err != nil {
		return nil, errBadRequest("a document must be a JSON object: %v", err)
	}
	d := &document{members: members[:0]}
	for _, m := range members {
		if !strings.HasPrefix(m.key, "_") {
			d.members = append(d.members, m)
			continue
		}
		switch m.key {
		case "_id":
			if err := json.Unmarshal(m.raw, &d.id); err != nil {
				return nil, errBadRequest("_id must be a string")
			}
		case "_rev":
			if err := json.Unmarshal(m.raw, &d.rev); err != nil {
				return nil, errBadRequest("_rev must be a string")
			}
		case "_deleted":
			if err := json.Unmarshal(m.raw, &d.deleted); err != nil {
				return nil, errBadRequest("_deleted must be a boolean")
			}
		case "_attachments":
			return nil, errNotImplemented("attachments")
		default:
			if !ignoredSpecials[m.key] {
				return nil, &Error{Status: http.StatusBadRequest, Name: "doc_validation", Reason: "Bad special document member: " + m.key}
			}
		}
	}
	return d, nil
}

// takeRev sets the document's revision from the rev option when the body has none, and checks
// it: a malformed revision is a 400, as is a rev option that differs from the body's _rev.
func (d *document) takeRev(option string) error {
	if option != "" {
		if d.rev != "" && d.rev != option {
			return errBadRequest("Document rev from request body and query string have different values")
		}
		d.rev = option
	}
	rev, err := parseRev(d.rev)
	if err != nil {
		return err
	}
	d.rev = rev
	return nil
}

// body returns the stored form: the object without its special members.
func (d *document) body() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range d.members {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.raw)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// lookup returns the raw value of a top-level member; the last one wins, as in CouchDB.
func (d *document) lookup(key string) (json.RawMessage, bool) {
	for i := len(d.members) - 1; i >= 0; i-- {
		if d.members[i].key == key {
			return d.members[i].raw, true
		}
	}
	return nil, false
}

// withSpecials rebuilds the document a client reads: _id and _rev first, then the stored body.
func withSpecials(id, rev string, deleted bool, body []byte) []byte {
	idJSON, _ := json.Marshal(id)
	out := make([]byte, 0, len(body)+len(id)+len(rev)+40)
	out = append(out, `{"_id":`...)
	out = append(out, idJSON...)
	if rev != "" {
		out = append(out, `,"_rev":"`...)
		out = append(out, rev...)
		out = append(out, '"')
	}
	if deleted {
		out = append(out, `,"_deleted":true`...)
	}
	rest := bytes.TrimSpace(body)
	if len(rest) > 2 { // more than "{}"
		out = append(out, ',')
		out = append(out, rest[1:]...)
		return out
	}
	return append(out, '}')
}

// nextRev computes the revision that follows prev for this content, CouchDB style: the generation
// plus one, then an MD5 of what the revision holds.
func nextRev(prev string, deleted bool, body []byte) string {
	gen := revGeneration(prev) + 1
	h := md5.New()
	h.Write([]byte(prev))
	if deleted {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	h.Write(body)
	return strconv.Itoa(gen) + "-" + hex.EncodeToString(h.Sum(nil))
}

// parseRev checks a revision given by a client and returns it in the form the store writes
// revisions, as CouchDB reads them (couch_doc:parse_rev): "N-id" with N an integer; an id of 32
// characters is a 128-bit number in hexadecimal, so its case does not matter. Anything else is
// a 400 bad request, never a conflict. "" stays "" (no revision).
func parseRev(rev string) (string, error) {
	if rev == "" {
		return "", nil
	}
	pos, id, ok := strings.Cut(rev, "-")
	n, err := strconv.ParseInt(pos, 10, 64)
	if !ok || err != nil {
		return "", errInvalidRev()
	}
	if len(id) == 32 {
		if _, err := hex.DecodeString(id); err != nil {
			return "", errInvalidRev()
		}
		id = strings.ToLower(id)
	}
	return strconv.FormatInt(n, 10) + "-" + id, nil
}

// revGeneration returns N of "N-hash", 0 for "" or a malformed revision.
func revGeneration(rev string) int {
	n, _, ok := strings.Cut(rev, "-")
	if !ok {
		return 0
	}
	g, err := strconv.Atoi(n)
	if err != nil {
		return 0
	}
	return g
}

// newDocID returns a random 32-hex-digit id, like CouchDB's UUIDs.
func newDocID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

const localPrefix = "_local/"

func isLocal(id string) bool { return strings.HasPrefix(id, localPrefix) }
