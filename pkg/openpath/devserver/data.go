package devserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/openpath"
)

// UserData is what the server holds for one user, in the e-mission formats.
type UserData struct {
	// Trips are timeline trips: GeoJSON FeatureCollections as getTrips returns them. Each needs a
	// local start date (properties.start_local_dt or start_fmt_time) and properties.start_ts and
	// end_ts; the rest is served as is, even if malformed.
	Trips []json.RawMessage
	// Labels are manual/* entries as find_entries returns them (metadata.key, metadata.write_ts,
	// data.start_ts, data.end_ts, data.label).
	Labels []json.RawMessage
	// Composite are analysis/composite_trip entries (or any other analysis/* entries): served by
	// find_entries under their metadata.key, rewritten by a pipeline reset.
	Composite []json.RawMessage
}

// LoadDir reads one user's data from a directory laid out like the shared OpenPATH samples:
//
//   - timeline/*.json: {"metadata": ..., "data": [trip, ...]}, or null for a day without data (a bare
//     list and a getTrips answer {"timeline": [...]} are accepted too);
//   - labels/*.json: lists of manual/* entries;
//   - composite/*.json: lists of analysis/composite_trip entries.
//
// Missing subdirectories are empty; other files and subdirectories (confirmed/, README.md) are
// ignored. Files are read in name order.
func LoadDir(dir string) (*UserData, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("devserver: data directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("devserver: data directory %s is not a directory", dir)
	}
	var data UserData
	err = eachJSON(filepath.Join(dir, "timeline"), func(path string, b []byte) error {
		trips, err := timelineTrips(b)
		if err != nil {
			return fmt.Errorf("devserver: %s: %w", path, err)
		}
		data.Trips = append(data.Trips, trips...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, sub := range []struct {
		name string
		dst  *[]json.RawMessage
	}{{"labels", &data.Labels}, {"composite", &data.Composite}} {
		err := eachJSON(filepath.Join(dir, sub.name), func(path string, b []byte) error {
			var list []json.RawMessage
			if err := json.Unmarshal(b, &list); err != nil {
				return fmt.Errorf("devserver: %s: want a list of entries: %w", path, err)
			}
			for _, e := range list {
				if string(e) != "null" {
					*sub.dst = append(*sub.dst, e)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(data.Trips)+len(data.Labels)+len(data.Composite) == 0 {
		return nil, fmt.Errorf("devserver: %s holds no timeline/, labels/ or composite/ JSON files", dir)
	}
	return &data, nil
}

// eachJSON calls fn with the content of each *.json file of dir, in name order; a missing dir is
// empty.
func eachJSON(dir string, fn func(path string, b []byte) error) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("devserver: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, n := range names {
		path := filepath.Join(dir, n)
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("devserver: %w", err)
		}
		if err := fn(path, b); err != nil {
			return err
		}
	}
	return nil
}

// timelineTrips reads the trips of a timeline file.
func timelineTrips(b []byte) ([]json.RawMessage, error) {
	var raw json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	switch {
	case string(raw) == "null":
		return nil, nil
	case raw[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		return dropNulls(list), nil
	case raw[0] == '{':
		var doc struct {
			Data     []json.RawMessage `json:"data"`
			Timeline []json.RawMessage `json:"timeline"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("want {\"data\": [trip, ...]}: %w", err)
		}
		return dropNulls(append(doc.Data, doc.Timeline...)), nil
	}
	return nil, errors.New("want {\"data\": [trip, ...]}, a list of trips, or null")
}

func dropNulls(list []json.RawMessage) []json.RawMessage {
	return slices.DeleteFunc(list, func(r json.RawMessage) bool { return string(r) == "null" })
}

// LabelSpec describes a label entry for [NewLabelEntry].
type LabelSpec struct {
	// Key is the entry key, e.g. openpath.KeyModeConfirm.
	Key string
	// Value is the label, e.g. "bike".
	Value string
	// StartTS and EndTS are the labelled span (seconds since the epoch): a trip's, within seconds.
	StartTS, EndTS float64
	// WriteTS is when the user labelled it.
	WriteTS float64
	// TimeZone is the IANA zone for the local fields; empty means UTC.
	TimeZone string
	// ID is the entry _id (24 hex digits); empty derives one from the other fields.
	ID string
}

// NewLabelEntry returns a label entry as find_entries returns it, to give [Server.AddLabels].
func NewLabelEntry(s LabelSpec) (json.RawMessage, error) {
	loc := time.UTC
	if s.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(s.TimeZone); err != nil {
			return nil, fmt.Errorf("devserver: label time zone: %w", err)
		}
	}
	if s.ID == "" {
		s.ID = derivedID(fmt.Sprintf("%s|%s|%v|%v|%v", s.Key, s.Value, s.StartTS, s.EndTS, s.WriteTS), s.WriteTS)
	}
	at := func(ts float64) time.Time { return openpath.TimeOf(ts).In(loc) }
	type data struct {
		StartTS      float64            `json:"start_ts"`
		EndTS        float64            `json:"end_ts"`
		Label        string             `json:"label"`
		StartLocalDt openpath.LocalDate `json:"start_local_dt"`
		StartFmtTime string             `json:"start_fmt_time"`
		EndLocalDt   openpath.LocalDate `json:"end_local_dt"`
		EndFmtTime   string             `json:"end_fmt_time"`
	}
	entry := struct {
		ID       map[string]string `json:"_id"`
		UserID   map[string]string `json:"user_id,omitempty"`
		Metadata openpath.Metadata `json:"metadata"`
		Data     data              `json:"data"`
	}{
		ID: map[string]string{"$oid": s.ID},
		Metadata: openpath.Metadata{Key: s.Key, Platform: "android", WriteTS: s.WriteTS, TimeZone: loc.String(),
			WriteLocalDt: openpath.NewLocalDate(at(s.WriteTS)), WriteFmtTime: openpath.FormatTime(at(s.WriteTS))},
		Data: data{StartTS: s.StartTS, EndTS: s.EndTS, Label: s.Value,
			StartLocalDt: openpath.NewLocalDate(at(s.StartTS)), StartFmtTime: openpath.FormatTime(at(s.StartTS)),
			EndLocalDt: openpath.NewLocalDate(at(s.EndTS)), EndFmtTime: openpath.FormatTime(at(s.EndTS))},
	}
	b, err := json.Marshal(entry)
	if err != nil {
		return nil, fmt.Errorf("devserver: label entry: %w", err)
	}
	return b, nil
}
