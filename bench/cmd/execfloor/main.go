// Command execfloor measures the exec floor (BENCHMARKS.md): it starts a
// command -n times, one after another, waits for each, and prints as JSON
// the wall time of each start-to-reap and the CPU (user + system) each
// process used, in milliseconds. Its output is thrown away, as a worker's
// stdout would be read and dropped.
//
//	execfloor [-n 100] COMMAND [ARG...]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 100, "how many times to run the command")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: execfloor [-n N] COMMAND [ARG...]")
		os.Exit(2)
	}
	wall := make([]float64, 0, *n)
	cpu := make([]float64, 0, *n)
	for range *n {
		cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "execfloor: %s: %v\n", flag.Arg(0), err)
			os.Exit(1)
		}
		wall = append(wall, ms(time.Since(t0)))
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			cpu = append(cpu, ms(time.Duration(ru.Utime.Nano()+ru.Stime.Nano())))
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(map[string]any{"wall_ms": wall, "cpu_ms": cpu}); err != nil {
		fmt.Fprintln(os.Stderr, "execfloor:", err)
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
