// Package proccpu reads the CPU time processes have used, for benchmarks that say where a
// machine's cores went: the process's own, and that of the servers it starts (a trip server, a
// CouchDB-protocol server), which share the same cores.
package proccpu

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Of is the CPU time, user and system, the running process pid has used so far, as Linux's
// /proc/<pid>/stat gives it in clock ticks: its utime and stime, the 14th and 15th fields. The
// ticks are USER_HZ, 100 on Linux whatever the kernel's own tick (the kernel keeps that for this
// interface). Where /proc is missing, it returns an error.
func Of(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("proccpu: %w", err)
	}
	return parseStat(stat)
}

// parseStat reads utime and stime from the text of /proc/<pid>/stat.
func parseStat(stat []byte) (time.Duration, error) {
	// The command name, the 2nd field, is in parentheses and may hold spaces and parentheses:
	// count the fields after the last ')'.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("proccpu: /proc/<pid>/stat without a command name: %.80q", stat)
	}
	f := bytes.Fields(stat[end+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("proccpu: /proc/<pid>/stat has %d fields after the command name, want 13 or more", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] { // utime and stime: f[0] is the 3rd field, the state
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("proccpu: /proc/<pid>/stat: bad CPU time %q", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// userHZ is the unit of /proc/<pid>/stat's times, per second.
const userHZ = 100
