// Command empty does nothing: the exec floor of BENCHMARKS.md is the cost of
// starting and reaping it, the least any Go worker process can cost.
package main

func main() {}
