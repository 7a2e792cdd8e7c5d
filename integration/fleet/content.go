package fleet

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"sync"
)

// Checker severities, as CodeChecker's Thrift Severity enum numbers them.
const (
	sevUnspecified = 0
	sevStyle       = 10
	sevLow         = 20
	sevMedium      = 30
	sevHigh        = 40
	sevCritical    = 50
)

// checkerDef is one checker Fill writes.
type checkerDef struct {
	analyzer, name string
	severity       int
}

// Name pools. Content is built from these so that it reads like a real
// product without costing anything to produce.
var (
	projects = []string{"libacme", "acme-server", "netcore", "storage-engine", "acme-gui", "toolkit", "firmware", "acme-cli"}
	branches = []string{"main", "release-2.0", "release-1.4", "feature/async-io", "nightly", "hotfix"}
	users    = []string{"alice", "bob", "carol", "ci-bot", "dave"}
	modules  = []string{"core", "net", "io", "util", "parser", "crypto", "storage", "sched", "log", "config", "test"}
	words    = []string{
		"buffer", "socket", "parser", "config", "session", "cache", "queue", "stream", "alloc", "hash",
		"map", "list", "string", "codec", "timer", "thread", "mutex", "signal", "file", "path",
		"json", "http", "tls", "dns", "retry", "pool", "index", "btree", "page", "journal",
	}
	checkerMessages = []string{
		"Dereference of null pointer (loaded from variable 'p')",
		"Potential leak of memory pointed to by 'buf'",
		"Array access (from variable 'arr') results in a null pointer dereference",
		"Division by zero",
		"Use of memory after it is freed",
		"Value stored to 'ret' is never read",
		"Called function pointer is null (null dereference)",
		"The left operand of '+' is a garbage value",
		"Branch condition evaluates to a garbage value",
		"Access to field 'next' results in a dereference of a null pointer (loaded from variable 'node')",
		"Attempt to free released memory",
		"Resource leak: fd",
		"Memory leak: ctx",
		"Array index 'i' is out of bounds",
		"Uninitialized variable: len",
		"narrowing conversion from 'size_t' to signed type 'int' is implementation-defined",
		"the value returned by this function should not be disregarded; neglecting it may lead to errors",
		"use 'nullptr' instead of NULL",
		"function 'parse_header' has cognitive complexity of 41 (threshold 25)",
		"do not use 'else' after 'return'",
		"parameter 'cfg' is passed by value and only copied once; consider moving it",
		"'strcpy' is insecure; consider using 'strlcpy' instead",
		"integer overflow in expression of type 'int' results in undefined behaviour",
		"Condition 'n<0' is always false",
		"Variable 'flags' is assigned a value that is never used.",
		"Shifting signed 32-bit value by 31 bits is undefined behaviour",
		"Returning pointer to local variable 'tmp' that will be invalid when returning.",
		"Possible null pointer dereference: conn",
	}
	eventMessages = []string{
		"Assuming 'p' is null",
		"Assuming the condition is true",
		"Assuming the condition is false",
		"Calling 'init_buffer'",
		"Returning from 'init_buffer'",
		"Entering loop body",
		"Looping back to the head of the loop",
		"Memory is allocated",
		"Memory is released",
		"'len' declared without an initial value",
		"Taking true branch",
		"Taking false branch",
		"Null pointer value stored to 'node'",
		"Passing null pointer value via 1st parameter 'ctx'",
	}
	noteMessages = []string{
		"see declaration of 'buf'",
		"expanded from macro 'CHECK'",
		"replace with 'nullptr'",
		"previous definition is here",
		"insert 'const'",
	}
	commentMessages = []string{
		"False alarm: pointer checked by caller.",
		"See ticket ACME-1234",
		"Reproduced with the fuzzer, fix pending.",
		"Intentional: the buffer is sized by the protocol.",
		"Will be fixed by the allocator rework.",
		"Not reachable in production builds.",
	}
	reviewMessages = []string{"triaged", "confirmed with a unit test", "checked by the caller", "by design", "known limitation of the analyzer"}
)

// blobs holds the encoded payloads Fill reuses: compressing them once keeps
// file content cheap however many files there are.
var blobs = sync.OnceValue(func() *blobSet {
	s := &blobSet{}
	for i := range 8 {
		s.sources = append(s.sources, blob("file_contents.content", sourceText(i)))
	}
	for i := range 3 {
		s.blame = append(s.blame, blob("file_contents.blame_info", blameText(i)))
	}
	for _, m := range reviewMessages {
		// The same text goes into both review-message columns.
		s.review = append(s.review, blob("reports.review_status_message", m))
		s.rule = append(s.rule, blob("review_statuses.message", m))
	}
	s.clangVersion = blob("analyzer_statistics.version", "clang version 19.1.7 (https://github.com/llvm/llvm-project.git)")
	s.cppcheckVersion = blob("analyzer_statistics.version", "Cppcheck 2.16.0")
	s.failed = blob("analyzer_statistics.failed_files", "/home/ci/workspace/src/broken/generated_parser.c\n/home/ci/workspace/src/broken/asm_stub.c\n")
	return s
})

type blobSet struct {
	sources, blame, review, rule          [][]byte
	clangVersion, cppcheckVersion, failed []byte
}

// deflate returns s zlib-compressed, the way CodeChecker stores blobs.
func deflate(s string) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// sourceText is a small C file; variant i differs from the others.
func sourceText(i int) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "/* %s.c -- part of libacme, variant %d */\n#include <stdlib.h>\n#include <string.h>\n#include \"acme/%s.h\"\n\n", words[i], i, words[i])
	for f := range 12 {
		fmt.Fprintf(&b, "int %s_%s_%d(struct %s *p, size_t n)\n{\n\tif (!p || n > %d)\n\t\treturn -1;\n\treturn p->items[n %% %d] + %d;\n}\n\n",
			words[i], words[(i+f)%len(words)], f, words[i], 64+f*i, 7+f, f*i)
	}
	return b.String()
}

func blameText(i int) string {
	return fmt.Sprintf(`{"version": "v1", "blame": [{"from": 1, "to": 40, "commit": "%032x"}], "commits": {"%032x": {"author": {"name": "%s", "email": "%s@example.com"}, "summary": "initial import", "message": "initial import", "committed_datetime": "2025-03-0%d 10:00:00+00:00"}}}`,
		i+1, i+1, users[i], users[i], i+1)
}
