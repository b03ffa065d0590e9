package openpath

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Keys of the timeseries entries a connector reads with [Client.FindEntries].
const (
	// KeyCleanedTrip is the trip entry of older servers; its _id is the id getTrips gives the trip.
	KeyCleanedTrip = "analysis/cleaned_trip"
	// KeyConfirmedTrip is the trip entry of servers since 2021 (user_input, inferred labels,
	// section summaries); data.cleaned_trip is the id getTrips gives the trip.
	KeyConfirmedTrip = "analysis/confirmed_trip"
	// KeyCompositeTrip is the newest trip entry: one entry per trip holding its sections and up to
	// 100 locations.
	KeyCompositeTrip = "analysis/composite_trip"
	// KeyModeConfirm is a label entry: the mode the user says they used.
	KeyModeConfirm = "manual/mode_confirm"
	// KeyPurposeConfirm is a label entry: the purpose of the trip.
	KeyPurposeConfirm = "manual/purpose_confirm"
	// KeyReplacedMode is a label entry: the mode the trip replaced.
	KeyReplacedMode = "manual/replaced_mode"
)

// LabelKeys returns the keys of the user label entries, in a new slice the caller may modify.
func LabelKeys() []string {
	return []string{KeyModeConfirm, KeyPurposeConfirm, KeyReplacedMode}
}

// Time keys that [EntryQuery.KeyTime] may name.
const (
	// KeyTimeWriteTS filters entries on when the pipeline wrote them (the server's default).
	KeyTimeWriteTS = "metadata.write_ts"
	// KeyTimeStartTS filters trip and label entries on when the trip started.
	KeyTimeStartTS = "data.start_ts"
)

// ServerEntryCap is the largest number of entries an e-mission server returns for one find_entries
// query; a result of exactly this size may have been cut, so query a narrower time window.
const ServerEntryCap = 250000

// Date is a calendar day without a time zone. getTrips selects trips by the date they started in
// their own local time, so a Date is never derived from a UTC timestamp: use
// [TripHeader.StartDate], [LocalDate.Date] or [DateOfFmtTime].
type Date struct {
	Year  int        // e.g. 2016
	Month time.Month // 1 to 12
	Day   int        // 1 to 31
}

// ParseDate parses "YYYY-MM-DD". It rejects dates that do not exist (2023-02-30).
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("openpath: date %q: want YYYY-MM-DD", s)
	}
	y, err1 := strconv.Atoi(s[0:4])
	m, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:10])
	if err1 != nil || err2 != nil || err3 != nil {
		return Date{}, fmt.Errorf("openpath: date %q: want YYYY-MM-DD", s)
	}
	date := Date{Year: y, Month: time.Month(m), Day: d}
	if !date.Valid() {
		return Date{}, fmt.Errorf("openpath: date %q does not exist", s)
	}
	return date, nil
}

// DateOf returns the date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// DateOfFmtTime returns the local date of an e-mission *_fmt_time string
// ("2016-06-20T08:28:03.395000-07:00"): its first ten characters, which are the local date because
// the string carries the local offset.
func DateOfFmtTime(fmtTime string) (Date, error) {
	if len(fmtTime) < 10 {
		return Date{}, fmt.Errorf("openpath: fmt_time %q has no date", fmtTime)
	}
	return ParseDate(fmtTime[:10])
}

// String returns the date as YYYY-MM-DD, the form getTrips takes.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a day of the calendar (years 1 to 9999).
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
	return DateOf(t) == d
}

// AddDays returns the date n days after d (before it when n < 0).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	default:
		return cmpInt(d.Day, o.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// LocalDate is e-mission's broken-down local time (the *_local_dt dicts): the wall-clock fields of an
// instant in the time zone of the phone at that moment.
type LocalDate struct {
	Year   int `json:"year"`
	Month  int `json:"month"`
	Day    int `json:"day"`
	Hour   int `json:"hour"`
	Minute int `json:"minute"`
	Second int `json:"second"`
	// Weekday counts from Monday = 0 (Python's convention), not Go's Sunday = 0.
	Weekday int `json:"weekday"`
	// Timezone is the IANA name, e.g. "Europe/Paris".
	Timezone string `json:"timezone"`
}

// NewLocalDate returns the LocalDate of t in t's location; Timezone is the location's name.
func NewLocalDate(t time.Time) LocalDate {
	return LocalDate{
		Year: t.Year(), Month: int(t.Month()), Day: t.Day(),
		Hour: t.Hour(), Minute: t.Minute(), Second: t.Second(),
		Weekday:  (int(t.Weekday()) + 6) % 7,
		Timezone: t.Location().String(),
	}
}

// Date returns the calendar date of l; ok is false when l holds no valid date (a missing dict).
func (l LocalDate) Date() (d Date, ok bool) {
	d = Date{Year: l.Year, Month: time.Month(l.Month), Day: l.Day}
	return d, d.Valid()
}

// FormatTime formats t like e-mission's *_fmt_time fields (Python's isoformat): local time with
// microseconds and the UTC offset, "2016-06-20T08:28:03.395000-07:00"; the fraction is left out
// when it is zero, as Python does.
func FormatTime(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05-07:00")
	}
	return t.Format("2006-01-02T15:04:05.000000-07:00")
}

// TimeOf converts e-mission seconds since the epoch to a time.Time in UTC, to the microsecond.
func TimeOf(ts float64) time.Time {
	return time.UnixMicro(int64(ts*1e6 + 0.5*sign(ts))).UTC()
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// Metadata is the metadata of a timeseries entry.
type Metadata struct {
	// Key says what the entry is, e.g. "analysis/confirmed_trip" or "manual/mode_confirm".
	Key string `json:"key"`
	// Platform is "server" for pipeline output, "android" or "ios" for what the phone sent.
	Platform string `json:"platform,omitempty"`
	// WriteTS is when the entry was written (seconds since the epoch); find_entries filters on it by
	// default. A pipeline reset rewrites trips with new, later write times.
	WriteTS float64 `json:"write_ts"`
	// TimeZone is the IANA zone of the writer.
	TimeZone string `json:"time_zone,omitempty"`
	// WriteLocalDt is WriteTS as local wall-clock fields.
	WriteLocalDt LocalDate `json:"write_local_dt"`
	// WriteFmtTime is WriteTS formatted with its local offset.
	WriteFmtTime string `json:"write_fmt_time,omitempty"`
}

// Entry is one timeseries entry from find_entries: the typed header a caller routes on, and the
// entry's exact JSON.
type Entry struct {
	// ID is the entry's _id (the hex of its {"$oid"}).
	ID string
	// UserID is the entry's user_id (the hex of its {"$uuid"}), empty when absent.
	UserID string
	// Metadata is the entry's metadata.
	Metadata Metadata
	// Raw is the whole entry exactly as the server sent it.
	Raw json.RawMessage
	// validated is set by FindEntries when Raw was validated as JSON with its answer, accepting
	// what the conversion's validator (gjson.ValidBytes) accepts: FromCompositeEntry skips it then.
	validated bool
}

// Data returns the entry's data object as a sub-slice of Raw (no copy), or nil when it has none.
func (e Entry) Data() json.RawMessage {
	return subValue(e.Raw, "data")
}

// Label is the data of a label entry (manual/mode_confirm, manual/purpose_confirm,
// manual/replaced_mode): a value the user chose for the trip with that time span. Labels match
// their trip by overlap, their times differ from the trip's by seconds.
type Label struct {
	// Span is the labelled trip's time span.
	Span
	// Value is data.label, e.g. "bike" or "work". Deployments define their own values: keep unknown
	// ones.
	Value string `json:"label"`
}

// Overlap returns how many seconds the label's span shares with [startTS, endTS]; 0 when disjoint.
func (l Label) Overlap(startTS, endTS float64) float64 {
	lo, hi := max(l.StartTS, startTS), min(l.EndTS, endTS)
	if hi < lo {
		return 0
	}
	return hi - lo
}

// Span is when a trip (or the trip a label is for) started and ended, as e-mission writes it.
type Span struct {
	// StartTS and EndTS are seconds since the epoch.
	StartTS float64 `json:"start_ts"`
	EndTS   float64 `json:"end_ts"`
	// StartFmtTime and EndFmtTime are the span in local time with offset.
	StartFmtTime string `json:"start_fmt_time"`
	EndFmtTime   string `json:"end_fmt_time"`
	// StartLocalDt and EndLocalDt are the span as local wall-clock fields.
	StartLocalDt LocalDate `json:"start_local_dt"`
	EndLocalDt   LocalDate `json:"end_local_dt"`
}

// TripHeader is the small typed part of a trip: enough to route, match and deduplicate it without
// converting it.
type TripHeader struct {
	// ID is the trip's id: the FeatureCollection id of a getTrips trip, the _id of a trip entry.
	ID string
	// Span is the trip's time span.
	Span
	// Duration is in seconds, Distance in meters.
	Duration float64
	Distance float64
}

// StartDate returns the local date the trip started: the date of start_local_dt, else the date part
// of start_fmt_time. It never uses UTC. It fails when the trip has neither.
func (h TripHeader) StartDate() (Date, error) {
	if d, ok := h.StartLocalDt.Date(); ok {
		return d, nil
	}
	d, err := DateOfFmtTime(h.StartFmtTime)
	if err != nil {
		return Date{}, fmt.Errorf("trip %s has no local start date: %w", h.ID, ErrInvalidEntry)
	}
	return d, nil
}

// Trip is one trip of a getTrips answer: its typed header and its exact GeoJSON FeatureCollection.
type Trip struct {
	TripHeader
	// Raw is the trip's FeatureCollection exactly as the server sent it.
	Raw json.RawMessage
}

// String describes the entry for logs: its key, id and write time.
func (e Entry) String() string {
	return fmt.Sprintf("%s %s@%s", e.Metadata.Key, e.ID, strconv.FormatFloat(e.Metadata.WriteTS, 'f', -1, 64))
}
