package openpath

import (
	"encoding/json"
	"errors"
	"math"

	"github.com/tidwall/gjson"
)

// ReferenceComposite exports referenceComposite to the package's external tests.
var ReferenceComposite = referenceComposite

// referenceComposite is CompositeToFeatureCollection as it was written first, through maps and
// encoding/json: the reference the direct writer must match byte for byte, since the series' hash
// (trip.ServerInfo.Hash) tells a sync whether the server changed a trip.
func referenceComposite(entry []byte) ([]byte, string, error) {
	// Read with gjson, which copies nothing: the locations are most of the entry.
	if !gjson.ValidBytes(entry) {
		return nil, "", invalid("composite trip entry: not JSON")
	}
	root := gjson.ParseBytes(entry)
	if !root.IsObject() && root.Type != gjson.Null {
		return nil, "", invalid("composite trip entry: not an object")
	}
	var e struct {
		ID   oid
		Data struct {
			StartLoc, EndLoc     json.RawMessage
			ConfirmedTrip        oid
			StartPlace, EndPlace json.RawMessage
			StartTS, EndTS       *float64
			Sections, Locations  gjson.Result
		}
	}
	if err := e.ID.read(root.Get("_id")); err != nil {
		return nil, "", invalid("composite trip entry: _id: %v", err)
	}
	data := root.Get("data")
	if data.Exists() && !data.IsObject() && data.Type != gjson.Null {
		return nil, "", invalid("composite trip %s: data is not an object", e.ID)
	}
	if err := e.Data.ConfirmedTrip.read(data.Get("confirmed_trip")); err != nil {
		return nil, "", invalid("composite trip %s: confirmed_trip: %v", e.ID, err)
	}
	raw := func(r gjson.Result) json.RawMessage {
		if !r.Exists() {
			return nil
		}
		return json.RawMessage(r.Raw)
	}
	e.Data.StartLoc, e.Data.EndLoc = raw(data.Get("start_loc")), raw(data.Get("end_loc"))
	e.Data.StartPlace, e.Data.EndPlace = raw(data.Get("start_confirmed_place")), raw(data.Get("end_confirmed_place"))
	for _, f := range []struct {
		name string
		dst  **float64
	}{{"start_ts", &e.Data.StartTS}, {"end_ts", &e.Data.EndTS}} {
		switch v := data.Get(f.name); v.Type {
		case gjson.Number:
			x := v.Float()
			*f.dst = &x
		case gjson.Null:
		default:
			if v.Exists() {
				return nil, "", invalid("composite trip %s: %s is not a number", e.ID, f.name)
			}
		}
	}
	for _, f := range []struct {
		name string
		dst  *gjson.Result
	}{{"sections", &e.Data.Sections}, {"locations", &e.Data.Locations}} {
		v := data.Get(f.name)
		if v.Exists() && !v.IsArray() && v.Type != gjson.Null {
			return nil, "", invalid("composite trip %s: %s is not a list", e.ID, f.name)
		}
		*f.dst = v
	}
	if e.Data.StartTS == nil || e.Data.EndTS == nil {
		return nil, "", invalid("composite trip %s has no start_ts or end_ts", e.ID)
	}
	props := map[string]json.RawMessage{}
	data.ForEach(func(k, v gjson.Result) bool {
		switch k.String() {
		case "sections", "locations", "start_confirmed_place", "end_confirmed_place":
			// carried as features below, not repeated in the properties
		default:
			props[k.String()] = json.RawMessage(v.Raw)
		}
		return true
	})
	props["feature_type"] = json.RawMessage(`"trip"`)
	id := string(e.ID)
	if e.Data.ConfirmedTrip != "" {
		id = string(e.Data.ConfirmedTrip)
	}

	var points []refLocation
	e.Data.Locations.ForEach(func(_, raw gjson.Result) bool {
		l := raw.Get("data")
		coords := l.Get("loc.coordinates")
		if !coords.IsArray() || !l.Get("ts").Exists() {
			return true
		}
		points = append(points, refLocation{
			coords:   json.RawMessage(coords.Raw),
			ts:       l.Get("ts").Float(),
			speed:    l.Get("speed").Float(),
			distance: l.Get("distance").Float(),
		})
		return true
	})

	features := []any{
		refPlaceFeature("start_place", e.Data.StartLoc, e.Data.StartPlace),
		refPlaceFeature("end_place", e.Data.EndLoc, e.Data.EndPlace),
	}
	for i, raw := range e.Data.Sections.Array() {
		sec, err := refSectionFeature(json.RawMessage(raw.Raw), points)
		if err != nil {
			return nil, "", invalid("composite trip %s, section %d: %v", id, i, err)
		}
		features = append(features, map[string]any{"type": "FeatureCollection", "features": []any{sec}})
	}
	fc, err := json.Marshal(map[string]any{"type": "FeatureCollection", "id": id, "properties": props, "features": features})
	if err != nil {
		return nil, "", invalid("composite trip %s: %v", id, err)
	}
	return fc, id, nil
}

type refLocation struct {
	coords          json.RawMessage
	ts              float64
	speed, distance float64
}

func refPlaceFeature(kind string, loc, place json.RawMessage) map[string]any {
	props := map[string]any{"feature_type": kind}
	if len(place) > 0 {
		var p struct {
			ID   oid            `json:"_id"`
			Data map[string]any `json:"data"`
		}
		if json.Unmarshal(place, &p) == nil {
			for k, v := range p.Data {
				if k != "location" {
					props[k] = v
				}
			}
		}
	}
	var geometry any = json.RawMessage(loc)
	if len(loc) == 0 {
		geometry = nil
	}
	return map[string]any{"type": "Feature", "geometry": geometry, "properties": props}
}

func refSectionFeature(raw json.RawMessage, points []refLocation) (map[string]any, error) {
	entry := gjson.ParseBytes(raw)
	data := entry.Get("data")
	if !data.IsObject() {
		return nil, errors.New("no data")
	}
	var props map[string]any
	if err := json.Unmarshal([]byte(data.Raw), &props); err != nil {
		return nil, err
	}
	start, end := data.Get("start_ts").Float(), data.Get("end_ts").Float()
	modeName := data.Get("sensed_mode_str").String()
	prefix, ok := sensedModePrefixes[entry.Get("metadata.key").String()]
	if !ok {
		prefix = "MotionTypes."
	}
	if modeName == "" {
		modeName = motionTypeNames[int(data.Get("sensed_mode").Int())]
		if prefix == "PredictedModeTypes." {
			modeName = predictedModeNames[int(data.Get("sensed_mode").Int())]
		}
	}
	props["sensed_mode"] = prefix + modeName
	props["feature_type"] = "section"

	var coords []json.RawMessage
	var times, timestamps, speeds, distances []float64
	for _, p := range points {
		if p.ts < start || p.ts > end {
			continue
		}
		coords = append(coords, p.coords)
		times = append(times, p.ts)
		timestamps = append(timestamps, math.Round(p.ts*1000))
		speeds = append(speeds, p.speed)
		distances = append(distances, p.distance)
	}
	if len(coords) < 2 { // too few tracked points: draw the section from its ends
		coords = coords[:0]
		for _, k := range []string{"start_loc.coordinates", "end_loc.coordinates"} {
			if c := data.Get(k); c.IsArray() {
				coords = append(coords, json.RawMessage(c.Raw))
			}
		}
		times, timestamps, speeds, distances = nil, nil, nil, nil
	}
	props["times"], props["timestamps"], props["speeds"], props["distances"] = refOrEmpty(times), refOrEmpty(timestamps), refOrEmpty(speeds), refOrEmpty(distances)
	feature := map[string]any{"type": "Feature", "geometry": map[string]any{"type": "LineString", "coordinates": coords}, "properties": props}
	if id := entry.Get("_id.$oid"); id.Exists() {
		feature["id"] = id.String()
	}
	return feature, nil
}

func refOrEmpty(v []float64) []float64 {
	if v == nil {
		return []float64{}
	}
	return v
}
