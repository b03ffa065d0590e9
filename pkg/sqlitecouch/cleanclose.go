package sqlitecouch

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// cleanSuffix names the sidecar file, beside the vault file, that a clean close leaves: the
// vault file's stamp when this program last closed it with nothing else open on it. An open
// that finds it matching the file skips SQLite's integrity check (see checkIntegrity).
const cleanSuffix = ".clean"

// maxStampWait bounds how long Close waits for the file system's clock to move past the vault
// file's last change (one clock tick, a few ms, on Linux); a file system whose clock is coarser
// gets no marker, and its vault files are checked at every open.
const maxStampWait = 50 * time.Millisecond

// stamp is what a change to a file, or its replacement by another file, moves: the kernel sets
// ctime to the current time on every write and metadata change, and nothing can set it back.
type stamp struct {
	size, mtime, ctime int64 // times in ns since the epoch
	ino, dev           uint64
}

func (s stamp) String() string {
	return fmt.Sprintf("sqlitecouch clean close v1 size=%d mtime=%d ctime=%d ino=%d dev=%d\n", s.size, s.mtime, s.ctime, s.ino, s.dev)
}

// closedCleanly reports whether the vault file at path is as this program's last clean close
// left it, so that its integrity check can be skipped. It removes the marker first, before SQLite
// opens (and may write) the file: a process that dies before its Close leaves no marker, and the
// next open checks. Anything unexpected means "check".
func closedCleanly(path string) bool {
	marker := path + cleanSuffix
	want, err := os.ReadFile(marker)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if rmErr := os.Remove(marker); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
		// A marker that stays could outlive a crash of this process: do without it.
		slog.Warn("sqlitecouch: cannot remove the clean-close marker: checking the vault file's integrity at every open until it can be removed", "file", marker, "err", rmErr)
		return false
	}
	if err != nil || inUse(path) {
		return false
	}
	info, err := os.Stat(path)
	if err != nil {
		return false
	}
	got, ok := fileStamp(info)
	return ok && got.String() == string(want)
}

// inUse reports whether SQLite may have changes for path outside it: a -wal file exists while
// any connection has the file open, and after a process died with it open (likewise a
// rollback journal).
func inUse(path string) bool {
	for _, suffix := range []string{"-wal", "-journal"} {
		if _, err := os.Lstat(path + suffix); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// markCleanClose writes the marker for the vault file at path, closed by this process, unless
// a connection (this process's or another's) still has it open. The marker is written
// atomically, mode 0600.
//
// Why the stamp tells a later change apart even within the same clock tick: before taking it,
// this waits until a file written now (the temporary marker) gets a time later than the vault
// file's ctime. Any later change to the vault file gets a ctime no earlier than that time, so
// different from the recorded one (unless the system clock is set back).
func markCleanClose(path string) error {
	if inUse(path) {
		return nil
	}
	marker := path + cleanSuffix
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(marker)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create the clean-close marker: %w", err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	var st stamp
	for deadline := time.Now().Add(maxStampWait); ; {
		// The probe: the file system's clock now, as it stamps the files it changes.
		if _, err := f.WriteAt([]byte{0}, 0); err != nil {
			return fmt.Errorf("write the clean-close marker: %w", err)
		}
		probeInfo, err := f.Stat()
		if err != nil {
			return err
		}
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		probe, ok1 := fileStamp(probeInfo)
		var ok2 bool
		st, ok2 = fileStamp(info)
		if !ok1 || !ok2 {
			return nil // no stamps on this system: every open checks
		}
		if st.ctime < probe.mtime {
			break
		}
		if time.Now().After(deadline) {
			return nil // a coarse file system clock: every open checks
		}
		time.Sleep(time.Millisecond)
	}
	if inUse(path) { // opened since: the file may be about to change, leave no claim
		return nil
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write the clean-close marker: %w", err)
	}
	if _, err := f.WriteAt([]byte(st.String()), 0); err != nil {
		return fmt.Errorf("write the clean-close marker: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write the clean-close marker: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the clean-close marker: %w", err)
	}
	if err := os.Rename(tmp, marker); err != nil {
		return fmt.Errorf("write the clean-close marker: %w", err)
	}
	done = true
	return nil
}
