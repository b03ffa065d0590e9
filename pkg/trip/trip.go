// Package trip is the project's domain: a trip as it is kept in the vault (one
// io.cozy.timeseries.geojson document), what the tracking server said about it (read with
// [Doc.Route]), and what the person labelled and corrected.
//
// It imports only the standard library: the conversion from the tracking server's formats is
// pkg/openpath's. Who writes what in a trip document:
//   - the connector writes everything from the server: Series (the trip FeatureCollection exactly
//     as the server returned it), Server (its ids and times) and Labels (the person's labels made
//     in the phone app, the latest winning);
//   - the app writes Manual (corrections made in the app) and Aggregation (computed figures);
//     a sync never touches them, so a correction survives every re-sync.
package trip

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
)

// Doctype is the Cozy doctype of trip documents.
const Doctype = "io.cozy.timeseries.geojson"

// Doc is one trip in the vault.
type Doc struct {
	ID  string `json:"_id,omitempty"`
	Rev string `json:"_rev,omitempty"`

	// StartDate and EndDate are the server's start_fmt_time and end_fmt_time: ISO 8601 in the
	// trip's local time with its offset.
	StartDate string `json:"startDate"`
	EndDate   string `json:"endDate"`
	// Source is the tracking server's host; CaptureDevice the account's device name.
	Source        string     `json:"source"`
	CaptureDevice string     `json:"captureDevice"`
	Server        ServerInfo `json:"openpath"`
	Labels        Labels     `json:"labels,omitzero"`

	// Manual and Aggregation belong to the app; they are kept raw here so that a sync carries
	// them over untouched, whatever their version.
	Manual      json.RawMessage `json:"manual,omitempty"`
	Aggregation json.RawMessage `json:"aggregation,omitempty"`

	CozyMetadata CozyMetadata `json:"cozyMetadata"`

	// Series holds one element: the trip FeatureCollection as the server returned it (strings over
	// MaxTextBytes cut). It comes
	// last in the document, after the small members queries read, so that a store reading
	// members in order can stop before it.
	Series []json.RawMessage `json:"series"`
}

// ServerInfo is what identifies the trip on the tracking server.
type ServerInfo struct {
	TripID  string  `json:"tripId"`  // the server's trip id; it changes after a pipeline reset
	StartTS float64 `json:"startTs"` // seconds since the epoch
	EndTS   float64 `json:"endTs"`
	// Format says where the trip came from: "timeline" (getTrips) or "composite"
	// (analysis/composite_trip entries).
	Format string `json:"format"`
	// Hash is the SHA-256 of the series as converted (the server's bytes unless a text was cut):
	// a re-sync compares hashes, not JSON that the vault may have re-encoded.
	Hash string `json:"hash"`
}

// Labels are the person's labels from the phone app (manual/* entries), by e-mission key.
type Labels struct {
	Mode         *Label `json:"mode_confirm,omitempty"`
	Purpose      *Label `json:"purpose_confirm,omitempty"`
	ReplacedMode *Label `json:"replaced_mode,omitempty"`
}

// Label is one label entry: its value and when the phone wrote it.
type Label struct {
	Value   string  `json:"value"`
	WriteTS float64 `json:"writeTs"`
	EntryID string  `json:"entryId,omitempty"`
}

// Label keys as the server names them.
const (
	KeyModeConfirm    = "manual/mode_confirm"
	KeyPurposeConfirm = "manual/purpose_confirm"
	KeyReplacedMode   = "manual/replaced_mode"
)

// Apply records a label for key (one of the Key* constants) unless a label written later is
// already there; it reports whether anything changed. Texts over [MaxTextBytes] are cut.
func (l *Labels) Apply(key string, label Label) (bool, error) {
	label.Value, label.EntryID = CapText(label.Value), CapText(label.EntryID)
	var slot **Label
	switch key {
	case KeyModeConfirm:
		slot = &l.Mode
	case KeyPurposeConfirm:
		slot = &l.Purpose
	case KeyReplacedMode:
		slot = &l.ReplacedMode
	default:
		return false, fmt.Errorf("unknown label key %q", key)
	}
	cur := *slot
	if cur != nil && (cur.WriteTS > label.WriteTS || cur.WriteTS == label.WriteTS && cur.EntryID >= label.EntryID) {
		return false, nil
	}
	if cur != nil && *cur == label {
		return false, nil
	}
	*slot = &label
	return true, nil
}

// Merge applies every label of o (see [Labels.Apply]: the latest of each key wins) and reports
// whether anything changed.
func (l *Labels) Merge(o Labels) bool {
	changed := false
	for _, kv := range []struct {
		key   string
		label *Label
	}{{KeyModeConfirm, o.Mode}, {KeyPurposeConfirm, o.Purpose}, {KeyReplacedMode, o.ReplacedMode}} {
		if kv.label != nil {
			c, _ := l.Apply(kv.key, *kv.label) // the keys are known: no error
			changed = changed || c
		}
	}
	return changed
}

// Equal reports whether both hold the same labels.
func (l Labels) Equal(o Labels) bool {
	same := func(a, b *Label) bool { return a == b || a != nil && b != nil && *a == *b }
	return same(l.Mode, o.Mode) && same(l.Purpose, o.Purpose) && same(l.ReplacedMode, o.ReplacedMode)
}

// CozyMetadata is Cozy's bookkeeping on every document.
type CozyMetadata struct {
	DoctypeVersion          int            `json:"doctypeVersion"`
	MetadataVersion         int            `json:"metadataVersion"`
	CreatedAt               string         `json:"createdAt"`
	CreatedByApp            string         `json:"createdByApp"`
	CreatedByAppVersion     string         `json:"createdByAppVersion,omitempty"`
	UpdatedAt               string         `json:"updatedAt"`
	UpdatedByApps           []UpdatedByApp `json:"updatedByApps,omitempty"`
	SourceAccount           string         `json:"sourceAccount,omitempty"`
	SourceAccountIdentifier string         `json:"sourceAccountIdentifier,omitempty"`
}

// UpdatedByApp records one app's last write.
type UpdatedByApp struct {
	Slug    string `json:"slug"`
	Date    string `json:"date"`
	Version string `json:"version,omitempty"`
}

// DocID is the trip's document id: derived from the device and the start second, so that the same
// trip synced twice, by two runs at once, or after the server re-processed it under a new trip id,
// is always the same document.
func DocID(device string, startTS float64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%d", device, int64(math.Floor(startTS))))
	return "openpath-" + hex.EncodeToString(sum[:16])
}

// Encode returns the document's JSON as json.Marshal writes it, except that the series are copied
// as they are instead of being compacted and checked again by encoding/json: they are most of the
// document's bytes, and already valid JSON (pkg/openpath checks what it converts; a document read
// from the vault holds what the vault accepted); a store refuses a document that is not valid JSON.
func (d *Doc) Encode() (json.RawMessage, error) {
	head := *d
	head.Series = nil
	b, err := json.Marshal(&head)
	if err != nil {
		return nil, err
	}
	const tail = `"series":null}`
	if !bytes.HasSuffix(b, []byte(tail)) {
		return json.Marshal(d) // not reached while Series is the last member
	}
	if d.Series == nil {
		return b, nil
	}
	size := len(b) + 2
	for _, s := range d.Series {
		size += len(s) + 1
	}
	out := append(make([]byte, 0, size), b[:len(b)-len("null}")]...)
	out = append(out, '[')
	for i, s := range d.Series {
		if i > 0 {
			out = append(out, ',')
		}
		if len(s) == 0 {
			out = append(out, "null"...) // as json.Marshal writes a nil json.RawMessage
			continue
		}
		out = append(out, s...)
	}
	return append(out, "]}"...), nil
}
