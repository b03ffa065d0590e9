package trip

import "unicode/utf8"

// MaxTextBytes caps every text of a trip kept in the vault: each JSON string of its series (place
// names, labels, survey answers, ids, member names) and each label value. A longer text is cut on
// a UTF-8 boundary and ends with "…", MaxTextBytes bytes in all.
//
// 64 KiB is far above any real text (reverse-geocoded place names are a few hundred bytes, the
// longest strings of the shared samples are 1 kB survey answers) and keeps one bad field from
// bloating a trip: a 10 MB place name made a 30 MB trip document. Texts are cut rather than the
// trip refused: the trip's times, modes and distances (its CO2) are worth keeping, and a refused
// trip would fail again at every sync.
const MaxTextBytes = 64 << 10

// ellipsis ends a cut text.
const ellipsis = "…"

// CapText returns s cut to at most MaxTextBytes bytes on a UTF-8 boundary, ending with "…" when
// cut.
func CapText(s string) string {
	if len(s) <= MaxTextBytes {
		return s
	}
	n := MaxTextBytes - len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}
