package vaulttest

import (
	"os"
	"syscall"
)

// sysProcAttr puts pouchdb-server in its own process group, so that Stop can
// end it with anything it spawns, and has the kernel kill it if the test
// binary dies first (a test timeout does not run TestMain's cleanup).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by p.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	if err := syscall.Kill(-p.Pid, sig); err != nil {
		if err == syscall.ESRCH {
			return os.ErrProcessDone
		}
		return err
	}
	return nil
}
