//go:build !linux

package sqlitecouch

import "os"

// fileStamp has no ctime to read here: no marker is written, and every open checks.
func fileStamp(os.FileInfo) (stamp, bool) { return stamp{}, false }
