package sqlitecouch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// These tests observe whether Open ran the integrity check through Client.integrityChecked.

const cleanTestDB = "alice/io-cozy-test"

// openClient opens path with the driver and fails the test on error.
func openClient(t *testing.T, path string) *Client {
	t.Helper()
	c, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return c
}

// closedVault makes a vault of 200 trip-like documents and closes it cleanly.
func closedVault(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "vault.db")
	c := openClient(t, path)
	if err := c.CreateDB(ctx, cleanTestDB, nil); err != nil {
		t.Fatal(err)
	}
	db, _ := c.DB(cleanTestDB, nil)
	for i := range 200 {
		if _, err := db.Put(ctx, fmt.Sprintf("trip-%03d", i), map[string]any{"captureDevice": "phone", "pad": strings.Repeat("x", 500)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileExists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// damagePage writes garbage over the page in the middle of those holding marker, as
// vaulttest.Damage does (which this package's internal tests cannot import).
func damagePage(t *testing.T, path, marker string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var at []int
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(marker))
		if j < 0 {
			break
		}
		at = append(at, i+j)
		i += j + 1
	}
	if len(at) < 3 {
		t.Fatalf("%s holds %q %d times", path, marker, len(at))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 4096), int64(at[len(at)/2]/4096*4096)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCleanCloseSkipsCheck: a file this program closed cleanly, unchanged since, opens without
// the integrity check; the marker is gone while the file is open, and back after Close.
func TestCleanCloseSkipsCheck(t *testing.T) {
	path := closedVault(t)
	if !fileExists(t, path+cleanSuffix) || fileExists(t, path+"-wal") {
		t.Fatalf("after a clean close: marker %v, -wal %v; want a marker and no -wal", fileExists(t, path+cleanSuffix), fileExists(t, path+"-wal"))
	}
	c := openClient(t, path)
	if c.integrityChecked {
		t.Error("open after a clean close ran the integrity check")
	}
	if fileExists(t, path+cleanSuffix) {
		t.Error("the marker is still there while the file is open")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path + cleanSuffix); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("marker after the second close: %v, %v; want mode 0600", info, err)
	}
}

// TestChangedAfterCleanCloseIsChecked: a file damaged after a clean close, its modification time
// then put back, is still checked and refused at open: its ctime moved.
func TestChangedAfterCleanCloseIsChecked(t *testing.T) {
	path := closedVault(t)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	damagePage(t, path, `"captureDevice":`)
	if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil || !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() || !fileExists(t, path+cleanSuffix) {
		t.Fatalf("the damage should leave the size and modification time as they were, and the marker: %v, %v", after, err)
	}
	_, err = Open(t.Context(), path)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "integrity check") {
		t.Fatalf("open a file damaged after a clean close: %v, want ErrDamaged from the integrity check", err)
	}
}

// TestCrashedProcessIsChecked: a process that opened the file and died without Close (a child
// process that exits) leaves the next open to check it, and its writes are there.
func TestCrashedProcessIsChecked(t *testing.T) {
	path := closedVault(t)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashingChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SQLITECOUCH_CRASH="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if fileExists(t, path+cleanSuffix) || !fileExists(t, path+"-wal") {
		t.Fatalf("after the child died: marker %v, -wal %v; want no marker and a -wal", fileExists(t, path+cleanSuffix), fileExists(t, path+"-wal"))
	}
	c := openClient(t, path)
	defer c.Close()
	if !c.integrityChecked {
		t.Error("open after a process died with the file open skipped the integrity check")
	}
	db, _ := c.DB(cleanTestDB, nil)
	if _, err := db.Get(t.Context(), "from-the-child", nil); err != nil {
		t.Errorf("the child's committed write: %v", err)
	}
}

// TestCrashingChild writes one document and exits without closing the file.
func TestCrashingChild(t *testing.T) {
	path := os.Getenv("SQLITECOUCH_CRASH")
	if path == "" {
		t.Skip("runs as the child process of TestCrashedProcessIsChecked")
	}
	c, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := c.DB(cleanTestDB, nil)
	if _, err := db.Put(context.Background(), "from-the-child", map[string]any{"n": 1}, nil); err != nil {
		t.Fatal(err)
	}
	os.Exit(0) // no Close, as a killed process
}

// TestCloseWhileAnotherIsOpen: a client closing while another one still has the file open leaves
// no marker (the other may still write), so an open then checks; the last close leaves one.
func TestCloseWhileAnotherIsOpen(t *testing.T) {
	ctx := t.Context()
	path := closedVault(t)
	a := openClient(t, path)
	b := openClient(t, path)
	db, _ := b.DB(cleanTestDB, nil)
	if _, err := db.Put(ctx, "from-b", map[string]any{"n": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if fileExists(t, path+cleanSuffix) {
		t.Fatal("a client closing while another has the file open left a marker")
	}
	c := openClient(t, path)
	if !c.integrityChecked {
		t.Error("open while another client has the file open skipped the integrity check")
	}
	for _, cl := range []*Client{c, b} {
		if err := cl.Close(); err != nil {
			t.Fatal(err)
		}
	}
	d := openClient(t, path)
	defer d.Close()
	if d.integrityChecked {
		t.Error("open after the last client closed cleanly ran the integrity check")
	}
}

// TestDamageFoundLaterIsCheckedAtNextOpen: damage the stamp cannot see (a failing disk, forged
// here by writing the marker after the damage) is found when SQLite reads the page, and that
// client's Close leaves no marker, so the next open refuses the file.
func TestDamageFoundLaterIsCheckedAtNextOpen(t *testing.T) {
	ctx := t.Context()
	path := closedVault(t)
	damagePage(t, path, `"captureDevice":`)
	if err := markCleanClose(path); err != nil || !fileExists(t, path+cleanSuffix) {
		t.Fatalf("forge the marker: %v", err)
	}
	c := openClient(t, path)
	if c.integrityChecked {
		t.Fatal("the forged marker did not skip the check")
	}
	db, _ := c.DB(cleanTestDB, nil)
	var readErr error
	for i := 0; i < 200 && readErr == nil; i++ {
		_, readErr = db.Get(ctx, fmt.Sprintf("trip-%03d", i), nil)
	}
	if !errors.Is(readErr, ErrDamaged) {
		t.Fatalf("reading every document of a damaged file: %v, want ErrDamaged", readErr)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path); !errors.Is(err, ErrDamaged) {
		t.Fatalf("open after a client found damage: %v, want ErrDamaged", err)
	}
}
