package vaulttest

import (
	"bytes"
	"os"
	"testing"
)

// pageSize is the page size of the embedded vault's SQLite files.
const pageSize = 4096

// Damage writes garbage over one page of a closed embedded vault file, as a failing disk would:
// the page in the middle of those that hold marker (for example `"captureDevice":`, which only
// trip documents hold), so that only the operations reading that kind of document meet it.
func Damage(t testing.TB, path, marker string) {
	t.Helper()
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatalf("vaulttest: %s-wal is still there: close the vault before damaging it", path)
	}
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
		t.Fatalf("vaulttest: %s holds %q %d times: too few to damage one in the middle", path, marker, len(at))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, pageSize), int64(at[len(at)/2]/pageSize*pageSize)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
