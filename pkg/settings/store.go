package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// DocID is the id of the settings document in the vault.DoctypeSettings database.
const DocID = "coachco2-settings"

// appSlug is the app's slug in the document's cozyMetadata.
const appSlug = "coachco2"

// document is the stored settings document, field by field: the settings' own fields, Cozy's
// cozyMetadata, and whatever else a newer version or another app wrote, kept as it is.
type document map[string]json.RawMessage

// settings decodes the settings of the document (ignoring the fields it does not know), with
// the defaults filled in.
func (d document) settings() (Settings, error) {
	var s Settings
	raw, err := json.Marshal(d)
	if err == nil {
		err = json.Unmarshal(raw, &s)
	}
	return s.withDefaults(), err
}

// set writes s into the document: each field of Settings is replaced, or removed when s omits it.
func (d document) set(s Settings) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	t := reflect.TypeFor[Settings]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		delete(d, name)
	}
	for k, v := range fields {
		d[k] = v
	}
	return nil
}

// followsDefaultSet reports whether the document leaves the factor set to the default.
func (d document) followsDefaultSet() bool {
	raw, ok := d["factorSet"]
	return !ok || string(raw) == `""` || string(raw) == "null"
}

// touch records in cozyMetadata that the app wrote the document now.
func (d document) touch(now time.Time, created bool) error {
	var meta trip.CozyMetadata
	if raw, ok := d["cozyMetadata"]; ok && !created {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return fmt.Errorf("cozyMetadata: %w", err)
		}
	}
	date := now.UTC().Format(time.RFC3339)
	if created || meta.CreatedAt == "" {
		meta.DoctypeVersion, meta.MetadataVersion = 1, 1
		meta.CreatedAt, meta.CreatedByApp = date, appSlug
	}
	meta.UpdatedAt = date
	meta.UpdatedByApps = append(slices.DeleteFunc(meta.UpdatedByApps, func(a trip.UpdatedByApp) bool {
		return a.Slug == appSlug
	}), trip.UpdatedByApp{Slug: appSlug, Date: date})
	raw, err := json.Marshal(meta)
	d["cozyMetadata"] = raw
	return err
}

// Load reads the settings from db (the vault.DoctypeSettings database). It returns Defaults when
// the document does not exist, and fills in the defaults of fields the document leaves out;
// fields it does not know are ignored. When the stored settings are invalid (written by hand, or
// by a newer version), it returns them with an error wrapping an *InvalidError, so that the
// caller can show them and fix them with Update.
func Load(ctx context.Context, db *vault.DB) (Settings, error) {
	var d document
	if _, err := db.Get(ctx, DocID, &d); errors.Is(err, vault.ErrNotFound) {
		return Defaults(), nil
	} else if err != nil {
		return Settings{}, fmt.Errorf("settings: load: %w", err)
	}
	s, err := d.settings()
	if err != nil {
		return Defaults(), fmt.Errorf("settings: load: decode %s: %w", DocID, err)
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("settings: the stored settings are not valid: %w", err)
	}
	return s, nil
}

// Update changes the settings in db: it reads them (as Load does), lets change modify them,
// validates the result and writes it, retrying on a concurrent write (see vault.Update), so
// that a change made meanwhile by someone else is kept. change must be safe to call more than
// once and must not keep the pointer. An error from change is returned as is, and invalid
// settings give an error wrapping an *InvalidError; in both cases nothing is written. Update
// returns the settings as saved, with the defaults filled in.
//
// When the document leaves the factor set to the default ("" or absent) and the new settings
// keep the default set, the document goes on leaving it to the default, so that it follows
// co2.DefaultSetID if that changes.
func Update(ctx context.Context, db *vault.DB, change func(*Settings) error) (Settings, error) {
	var saved Settings
	_, err := vault.Update(ctx, db, DocID, func(d *document, found bool) error {
		if *d == nil {
			*d = document{}
		}
		s, err := d.settings()
		if err != nil {
			return fmt.Errorf("settings: update: decode %s: %w", DocID, err)
		}
		if err := change(&s); err != nil {
			return err
		}
		if err := s.Validate(); err != nil {
			return fmt.Errorf("settings: update: %w", err)
		}
		stored := s
		if s.FactorSet == co2.DefaultSetID && d.followsDefaultSet() {
			stored.FactorSet = ""
		}
		if err := d.set(stored); err != nil {
			return fmt.Errorf("settings: update: %w", err)
		}
		if err := d.touch(time.Now(), !found); err != nil {
			return fmt.Errorf("settings: update: %w", err)
		}
		saved = s.withDefaults()
		return nil
	})
	if err != nil {
		return Settings{}, err
	}
	return saved, nil
}
