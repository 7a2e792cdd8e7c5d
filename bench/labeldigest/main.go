// Command labeldigest prints the severity digest of a checker label
// directory as JSON, the "severity_labels" option the supervisor puts in a
// cleanup worker's job spec: for running such a worker by hand
// (bench/profile-cleanup.sh).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"supervisor/internal/labels"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: labeldigest LABEL_DIR")
		os.Exit(2)
	}
	l, err := labels.Load(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(l.Digest()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
