package openpath

import (
	"encoding/hex"
	"time"
)

// ObjectIDTime returns when a MongoDB ObjectId (24 hex digits, as e-mission's trip and entry ids
// are) was created: its first four bytes, seconds since the epoch. The pipeline creates a trip's
// id when it processes the trip, so of two copies of a trip the one with the later id time is the
// later processing. ok is false for an id that is not an ObjectId.
func ObjectIDTime(id string) (t time.Time, ok bool) {
	if len(id) != 24 {
		return time.Time{}, false
	}
	var b [12]byte
	if _, err := hex.Decode(b[:], []byte(id)); err != nil {
		return time.Time{}, false
	}
	secs := int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
	return time.Unix(secs, 0).UTC(), true
}
