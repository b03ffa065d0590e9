package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	kivik "github.com/go-kivik/kivik/v4"
)

// sqliteHeader starts every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// openFile opens (or creates) an embedded vault file, checking first what can
// be checked without the driver so that the common mistakes get a clear
// message naming the file.
func openFile(ctx context.Context, loc location) (*kivik.Client, error) {
	path := loc.file
	created, err := checkVaultFile(path)
	if err != nil {
		return nil, storeError{fmt.Errorf("vault: %s: %w", loc, err)}
	}
	cleanup := func() {
		if created {
			for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
				_ = os.Remove(path + suffix)
			}
		}
	}
	client, err := kivik.New(embeddedDriver, path)
	if err != nil {
		cleanup()
		return nil, storeError{fmt.Errorf("vault: %s: %s: %w", loc, damagedOr(err, "open"), err)}
	}
	// Make the driver really open and read the file now.
	if _, err := client.AllDBs(ctx); err != nil {
		_ = client.Close()
		cleanup()
		return nil, storeError{fmt.Errorf("vault: %s: %s: %w", loc, damagedOr(err, "read"), err)}
	}
	return client, nil
}

// checkVaultFile checks that path is, or can become, a vault file. It reports
// whether the file does not exist yet (the driver will create it).
func checkVaultFile(path string) (created bool, err error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		dinfo, err := os.Stat(dir)
		if err != nil {
			return false, fmt.Errorf("cannot create it: directory %s: %w", dir, err)
		}
		if !dinfo.IsDir() {
			return false, fmt.Errorf("cannot create it: %s is not a directory", dir)
		}
		return true, nil
	case err != nil:
		return false, err
	case info.IsDir():
		return false, errors.New("is a directory, not a vault file")
	case !info.Mode().IsRegular():
		return false, errors.New("is not a regular file")
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("cannot open it for reading and writing: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return false, nil // empty file: SQLite makes it a new database
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return false, fmt.Errorf("cannot read it: %w", err)
	case !bytes.Equal(head[:n], []byte(sqliteHeader)) || n < len(sqliteHeader):
		return false, errors.New("is not a vault file (not an SQLite database), or is corrupt")
	}
	return false, nil
}
