package openpath

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/trip"
)

// Conversion of the server's trips into vault documents ([trip.Doc]): the one place that knows both
// the server's formats and the document's.

// Origin says where converted trips come from, for their documents' metadata.
type Origin struct {
	Server     string // the tracking server's host, e.g. "openpath.example.org"
	Device     string // the account's device name (auth.login)
	AccountID  string // the io.cozy.accounts document id
	App        string // the writing app's slug, e.g. "openpath"
	AppVersion string
}

// ErrInvalidTrip is wrapped by every conversion error: the input is not a trip the vault can keep.
var ErrInvalidTrip = errors.New("invalid trip")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidTrip, fmt.Sprintf(format, args...))
}

// capStrings returns the valid JSON raw with every string longer than trip.MaxTextBytes cut by
// trip.CapText (re-encoded), and raw itself, untouched, when no string is that long: cut tells
// which.
func capStrings(raw []byte) (_ []byte, cut bool) {
	if len(raw) <= trip.MaxTextBytes {
		return raw, false // no string can be longer than the whole
	}
	var out []byte // nil until a string is cut
	copied := 0    // raw[:copied] is in out
	for i := 0; i < len(raw); i++ {
		if raw[i] != '"' {
			continue
		}
		j := i + 1
		for ; j < len(raw) && raw[j] != '"'; j++ {
			if raw[j] == '\\' {
				j++
			}
		}
		// raw[i:j+1] is the string with its quotes; escapes make it at least as long as its text.
		if j-i-1 > trip.MaxTextBytes {
			var text string
			if err := json.Unmarshal(raw[i:j+1], &text); err == nil && len(text) > trip.MaxTextBytes {
				enc, _ := json.Marshal(trip.CapText(text))
				out = append(append(out, raw[copied:i]...), enc...)
				copied = j + 1
			}
		}
		i = j
	}
	if out == nil {
		return raw, false
	}
	return append(out, raw[copied:]...), true
}

// FromTimeline converts a trip FeatureCollection as /timeline/getTrips returns it ([Trip.Raw]). The
// FeatureCollection is kept byte for byte in Series, except for strings over [trip.MaxTextBytes],
// which are cut. A trip whose series [trip.Doc.Route] cannot read is refused.
func FromTimeline(raw []byte, o Origin, now time.Time) (*trip.Doc, error) {
	if !gjson.ValidBytes(raw) {
		return nil, invalid("not JSON")
	}
	raw, _ = capStrings(raw)
	fc := gjson.ParseBytes(raw)
	if fc.Get("type").String() != "FeatureCollection" {
		return nil, invalid("not a FeatureCollection (type %q)", truncate(fc.Get("type").Raw, 40))
	}
	props := fc.Get("properties")
	if ft := props.Get("feature_type"); ft.Exists() && ft.String() != "trip" {
		return nil, invalid("feature_type %q, want trip", truncate(ft.Raw, 40))
	}
	if f := fc.Get("features"); !f.IsArray() {
		return nil, invalid("trip %s has no features array", fc.Get("id").String())
	}
	return newDoc(raw, fc.Get("id").String(), props, "timeline", o, now)
}

// newDoc checks the trip's times and builds its document; its series must read.
func newDoc(series []byte, tripID string, props gjson.Result, format string, o Origin, now time.Time) (*trip.Doc, error) {
	start, end := props.Get("start_ts"), props.Get("end_ts")
	if start.Type != gjson.Number || end.Type != gjson.Number {
		return nil, invalid("trip %s: start_ts and end_ts must be numbers", tripID)
	}
	if end.Float() < start.Float() || math.IsInf(start.Float(), 0) || math.IsNaN(start.Float()) {
		return nil, invalid("trip %s ends (%v) before it starts (%v)", tripID, end.Float(), start.Float())
	}
	startFmt, endFmt := props.Get("start_fmt_time").String(), props.Get("end_fmt_time").String()
	for _, s := range []string{startFmt, endFmt} {
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, invalid("trip %s: time %q is not ISO 8601 with an offset", tripID, s)
		}
	}
	stamp := now.UTC().Format(time.RFC3339)
	doc := &trip.Doc{
		ID:            trip.DocID(o.Device, start.Float()),
		StartDate:     startFmt,
		EndDate:       endFmt,
		Source:        o.Server,
		CaptureDevice: o.Device,
		Series:        []json.RawMessage{series},
		Server:        trip.ServerInfo{TripID: tripID, StartTS: start.Float(), EndTS: end.Float(), Format: format, Hash: contentHash(series)},
		CozyMetadata: trip.CozyMetadata{
			DoctypeVersion:          1,
			MetadataVersion:         1,
			CreatedAt:               stamp,
			CreatedByApp:            o.App,
			CreatedByAppVersion:     o.AppVersion,
			UpdatedAt:               stamp,
			UpdatedByApps:           []trip.UpdatedByApp{{Slug: o.App, Date: stamp, Version: o.AppVersion}},
			SourceAccount:           o.AccountID,
			SourceAccountIdentifier: o.Device,
		},
	}
	if err := doc.CheckRoute(); err != nil { // the app could not compute it: refuse it here, where it came from
		return nil, invalid("server trip %s: %v", tripID, err)
	}
	return doc, nil
}

func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// FromComposite converts an analysis/composite_trip entry: it is first turned into the
// FeatureCollection getTrips would give for the same trip (start and end places, one section
// FeatureCollection per section with its LineString and per-point arrays from the entry's
// locations), so the rest of the project reads one shape. Strings over [trip.MaxTextBytes] are cut.
func FromComposite(entry []byte, o Origin, now time.Time) (*trip.Doc, error) {
	return fromComposite(entry, false, o, now)
}

// FromCompositeEntry is [FromComposite] for an entry [Client.FindEntries] returned: its JSON,
// validated with the answer, is not validated again (most of a trip's bytes are its locations).
func FromCompositeEntry(e Entry, o Origin, now time.Time) (*trip.Doc, error) {
	return fromComposite(e.Raw, e.validated, o, now)
}

func fromComposite(entry []byte, validated bool, o Origin, now time.Time) (*trip.Doc, error) {
	fc, id, props, err := compositeToFeatureCollection(entry, validated)
	if err != nil {
		return nil, err
	}
	properties := gjson.ParseBytes(props)
	if !utf8.ValidString(id) {
		id = gjson.GetBytes(fc, "id").String() // as written: its bad bytes as U+FFFD
	}
	if capped, cut := capStrings(fc); cut {
		fc = capped
		id, properties = gjson.GetBytes(fc, "id").String(), gjson.GetBytes(fc, "properties")
	}
	doc, err := newDoc(fc, id, properties, "composite", o, now)
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// sensedModePrefixes names the enum a section's integer mode belongs to, by the section's key:
// cleaned sections carry MotionTypes, inferred sections PredictedModeTypes.
var sensedModePrefixes = map[string]string{
	"analysis/cleaned_section":  "MotionTypes.",
	"analysis/inferred_section": "PredictedModeTypes.",
}

// Enum names by value (openpath-api.md, "Mode enums").
var (
	motionTypeNames = map[int]string{0: "IN_VEHICLE", 1: "BICYCLING", 2: "ON_FOOT", 3: "STILL", 4: "UNKNOWN",
		5: "TILTING", 7: "WALKING", 8: "RUNNING", 9: "NONE", 10: "STOPPED_WHILE_IN_VEHICLE", 11: "AIR_OR_HSR"}
	predictedModeNames = map[int]string{0: "UNKNOWN", 1: "WALKING", 2: "BICYCLING", 3: "BUS", 4: "TRAIN",
		5: "CAR", 6: "AIR_OR_HSR", 7: "SUBWAY", 8: "TRAM", 9: "LIGHT_RAIL"}
)

// oid reads MongoDB's {"$oid": "..."} (or a plain string) as its hex string.
type oid string

func (o *oid) UnmarshalJSON(b []byte) error { return o.read(gjson.ParseBytes(b)) }

// read reads an id from r; a missing one is empty.
func (o *oid) read(r gjson.Result) error {
	switch {
	case !r.Exists():
		*o = ""
	case r.Type == gjson.String:
		*o = oid(r.String())
	case r.Get("$oid").Exists():
		*o = oid(r.Get("$oid").String())
	case r.Type == gjson.Null:
		*o = ""
	default:
		return fmt.Errorf("want an id, got %s", truncate(r.Raw, 40))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
