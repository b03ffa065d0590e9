package sqlitecouch

import (
	"os"
	"syscall"
)

// fileStamp reads the stamp of a file from its stat.
func fileStamp(info os.FileInfo) (stamp, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return stamp{}, false
	}
	return stamp{
		size:  st.Size,
		mtime: st.Mtim.Nano(),
		ctime: st.Ctim.Nano(),
		ino:   st.Ino,
		dev:   uint64(st.Dev), // uint32 on some architectures
	}, true
}
