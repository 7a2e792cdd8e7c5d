// Package buildinfo holds the supervisor's version, set at build time:
//
//	go build -ldflags "-X supervisor/internal/buildinfo.Version=1.2.3"
package buildinfo

// Version is the supervisor's version.
var Version = "dev"

// Operator is what migrations record as the operator that applied them.
func Operator() string { return "supervisor " + Version }
