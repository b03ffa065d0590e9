#!/usr/bin/env python3
"""Golden figures for the shared OpenPATH samples, computed independently of the Go code.

Reads ../shared/openpath-samples/timeline (every trip, as one user), applies the factor table of
coachco2-reference.md (set coachco2-ademe) and writes golden_samples.json:
  - "no_labels": per mode and in total, from the sensed modes only;
  - "labels": the same with the labels of labels/ applied (latest label per trip and key; a
    mode label applies to the trip's non-walking sections, to all of them when all walk);
  - in both, "co2_avoided_kg": over the sections on foot, by bike or scooter and by public
    transport, what a car would have emitted over the same distance less what they emitted (never
    below 0 for a section).
Run from this directory: python3 golden.py ../../../shared/openpath-samples > golden_samples.json
"""
import glob, json, os, sys

FACTORS = {  # g CO2e per passenger-km (coachco2-reference.md)
    "WALKING": 0, "ON_FOOT": 0, "RUNNING": 0, "BICYCLING": 0, "BICYCLING_ELECTRIC": 0,
    "SCOOTER_ELECTRIC": 0, "UNKNOWN": 0, "CAR": 192, "IN_VEHICLE": 192, "CAR_ELECTRIC": 19.8,
    "CARPOOL": 96, "CARPOOL_ELECTRIC": 9.9, "MOTO_INF_250": 60.4, "MOTO_SUP_250": 165, "MOPED": 64,
    "BUS": (146 + 137 + 129) / 3, "BUS_ELECTRIC": 21.7, "SUBWAY": (2.5 + 2.2 + 4.1 + 4.72 + 2.98) / 5,
    "TRAMWAY": 3, "TRAIN": (1.73 + 5.29 + 24.8) / 3,
}

def plane(km):
    return 258 if km <= 1000 else 187 if km <= 3500 else 152

SENSED = {"ON_FOOT": "WALKING", "WALKING": "WALKING", "RUNNING": "RUNNING", "BICYCLING": "BICYCLING",
          "IN_VEHICLE": "CAR", "AIR_OR_HSR": "AIR_OR_HSR", "STILL": "UNKNOWN", "TILTING": "UNKNOWN",
          "NONE": "UNKNOWN", "STOPPED_WHILE_IN_VEHICLE": "UNKNOWN", "UNKNOWN": "UNKNOWN",
          "BUS": "BUS", "TRAIN": "TRAIN", "CAR": "CAR", "SUBWAY": "SUBWAY", "TRAM": "TRAMWAY",
          "LIGHT_RAIL": "TRAMWAY"}

LABELS = {"walk": "WALKING", "bike": "BICYCLING", "bikeshare": "BICYCLING", "e-bike": "BICYCLING_ELECTRIC",
          "scootershare": "SCOOTER_ELECTRIC", "drove_alone": "CAR", "shared_ride": "CARPOOL",
          "e_car_drove_alone": "CAR_ELECTRIC", "e_car_shared_ride": "CARPOOL_ELECTRIC",
          "hybrid_drove_alone": "CAR", "hybrid_shared_ride": "CARPOOL", "taxi": "CAR", "bus": "BUS",
          "free_shuttle": "BUS", "train": "TRAIN", "air": "AIR_OR_HSR", "other": "UNKNOWN"}

def co2_kg(mode, meters):
    km = meters / 1000
    g = plane(km) if mode == "AIR_OR_HSR" else FACTORS[mode]
    return km * g / 1000

def trips(samples):
    out = []
    for f in sorted(glob.glob(os.path.join(samples, "timeline", "*.json"))):
        doc = json.load(open(f))
        if not doc:
            continue
        for t in doc["data"]:
            secs = [s["features"][0]["properties"] for s in t["features"] if s["type"] == "FeatureCollection"]
            modes = [SENSED[s["sensed_mode"].split(".")[-1]] for s in secs]
            out.append({"start": t["properties"]["start_ts"], "end": t["properties"]["end_ts"],
                        "sections": [(m, s["distance"]) for m, s in zip(modes, secs)]})
    return out

def mode_labels(samples, ts):
    """The latest mode label of each trip, matched by largest overlap."""
    best = {}
    for f in sorted(glob.glob(os.path.join(samples, "labels", "*.json"))):
        for e in json.load(open(f)):
            if e["metadata"]["key"] != "manual/mode_confirm":
                continue
            s, en = e["data"]["start_ts"], e["data"]["end_ts"]
            i, o = max(((i, min(en, t["end"]) - max(s, t["start"])) for i, t in enumerate(ts)), key=lambda x: x[1])
            if o <= 0:
                continue
            if i not in best or e["metadata"]["write_ts"] > best[i][0]:
                best[i] = (e["metadata"]["write_ts"], e["data"]["label"])
    return {i: v[1] for i, v in best.items()}

# The modes whose sections avoid a car's CO2 (walking, bike & scooter, public transport).
AVOIDING = {"WALKING", "ON_FOOT", "RUNNING", "BICYCLING", "BICYCLING_ELECTRIC", "SCOOTER_ELECTRIC",
            "BUS", "BUS_ELECTRIC", "TRAIN", "TRAMWAY", "SUBWAY"}

def figures(ts, labels):
    by_mode, total = {}, {"trips": 0, "sections": 0, "distance_km": 0.0, "co2_kg": 0.0}
    not_a_trip, avoided = 0, 0.0
    for i, t in enumerate(ts):
        secs = t["sections"]
        label = labels.get(i)
        if label == "not_a_trip":
            not_a_trip += 1
            continue
        if label is not None:
            lm = LABELS.get(label, "UNKNOWN")
            walking = [m in ("WALKING", "ON_FOOT", "RUNNING") for m, _ in secs]
            secs = [(m if (w and not all(walking)) else lm, d) for (m, d), w in zip(secs, walking)]
        total["trips"] += 1
        seen = set()
        for m, d in secs:
            g = by_mode.setdefault(m, {"trips": 0, "sections": 0, "distance_km": 0.0, "co2_kg": 0.0})
            g["sections"] += 1
            g["distance_km"] += d / 1000
            g["co2_kg"] += co2_kg(m, d)
            if m not in seen:
                g["trips"] += 1
                seen.add(m)
            total["sections"] += 1
            total["distance_km"] += d / 1000
            total["co2_kg"] += co2_kg(m, d)
            if m in AVOIDING:
                avoided += max(0.0, co2_kg("CAR", d) - co2_kg(m, d))
    return {"totals": total, "by_mode": by_mode, "not_a_trips": not_a_trip, "co2_avoided_kg": avoided}

if __name__ == "__main__":
    samples = sys.argv[1]
    ts = trips(samples)
    json.dump({"no_labels": figures(ts, {}), "labels": figures(ts, mode_labels(samples, ts))}, sys.stdout, indent=1, sort_keys=True)
