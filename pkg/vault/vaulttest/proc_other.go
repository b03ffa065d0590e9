//go:build !linux

package vaulttest

import (
	"os"
	"syscall"
)

// sysProcAttr returns nil: outside Linux, pouchdb-server stays in the test's
// process group.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup ends p (outside Linux, there is no group to signal).
func signalGroup(p *os.Process, _ syscall.Signal) error { return p.Kill() }
