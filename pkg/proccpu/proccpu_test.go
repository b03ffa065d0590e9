package proccpu

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A real line (Linux 6.x), with a command name holding a space and a parenthesis.
	line := []byte("4242 (node (x) y) S 1 4242 4242 0 -1 4194560 2304 0 0 0 150 25 0 0 20 0 11 0 81 1234 567 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0")
	got, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 175 * 10 * time.Millisecond; got != want {
		t.Errorf("parseStat = %v, want %v (utime 150 + stime 25 ticks)", got, want)
	}
	for _, bad := range []string{"", "4242 node S 1", "4242 (node) S 1 2 3", "4242 (node) S 1 4242 4242 0 -1 4194560 2304 0 0 0 x 25 0"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func TestOfCountsAChildsWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/<pid>/stat is Linux's")
	}
	const spin = 300 * time.Millisecond
	// The test binary itself, in a child process: it spins until it has used spin of CPU time,
	// says so, and stays alive until its standard input closes.
	if os.Getenv("PROCCPU_SPIN") != "" {
		start, _ := Self()
		for now := start; now-start < spin; now, _ = Self() {
		}
		fmt.Println("spun")
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOfCountsAChildsWork$")
	cmd.Env = append(os.Environ(), "PROCCPU_SPIN=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "spun\n" {
		t.Fatalf("the child said %q, %v", line, err)
	}
	got, err := Of(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// The ticks are 10 ms: the count may be one short of the time used.
	if got < spin-10*time.Millisecond {
		t.Errorf("Of(child) = %v, want %v or more", got, spin)
	}
}

func TestSelfGrows(t *testing.T) {
	a, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := Self()
		if err != nil {
			t.Fatal(err)
		}
		if b > a {
			return
		}
	}
}
