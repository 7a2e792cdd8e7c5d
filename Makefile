# supervisor: see README.md. Everything here builds with CGO_ENABLED=0.
export CGO_ENABLED := 0
GO       ?= go
BIN      := bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X supervisor/internal/buildinfo.Version=$(VERSION)
DEMO     := demo

.PHONY: build test test-race test-e2e test-short test-faults demo bench clean schema-sum

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/supervisor ./cmd/supervisor
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/worker ./cmd/worker
	$(GO) build -o $(BIN)/fleetgen ./integration/cmd/fleetgen

# The race detector needs cgo; the end-to-end tests in integration/ build the
# real binary without it (big SQLite workloads are too slow under -race).
# atexit_sleep_ms=0: a race-built binary otherwise sleeps a second as it
# exits, in every test binary and in every worker process a test re-execs;
# the tests fail on a race as it is reported, not at exit.
#
# The two halves run side by side (make -j2): each alone leaves a core idle
# much of the time (the end-to-end tests wait on worker processes and
# servers), and together they take about a minute less than one after the
# other on 2 cores. A failure in either fails `make test`.
test:
	$(GO) vet ./...
	$(MAKE) --no-print-directory -j2 test-race test-e2e

test-race:
	CGO_ENABLED=1 GORACE="atexit_sleep_ms=0 $(GORACE)" $(GO) test -race -count=1 -timeout 20m $$($(GO) list ./... | grep -v '/integration$$')

test-e2e:
	$(GO) test -count=1 -timeout 20m ./integration/

# The quick run: no race detector, -short. Skips every test that needs a
# PostgreSQL server (internal/pgtest skips them under -short) and kills fewer
# workers in the fault tests. Not what CI runs.
test-short:
	SUPERVISOR_SKIP_POSTGRES=1 $(GO) test -short -count=1 ./...

# The fault and proof suite (integration/, tests named *Fault*, *Kill*,
# *Proof*): many trials each, far longer than make test.
test-faults:
	SUPERVISOR_FAULT_TRIALS=100 $(GO) test -v -count=1 -timeout 60m -run 'Fault|Kill|Proof' ./integration/ > test-faults.log 2>&1; \
	status=$$?; grep -E '^(--- FAIL|ok|FAIL)|proof: scenario=' test-faults.log; echo "full output: test-faults.log"; exit $$status

# A demo workspace with products at different versions, then `status`.
demo: build
	rm -rf $(DEMO)
	$(BIN)/fleetgen -w $(DEMO)/workspace --demo
	$(BIN)/supervisor -w $(DEMO)/workspace status || true
	@echo
	@echo "Next: $(BIN)/supervisor -w $(DEMO)/workspace migrate -j 2 -y"

# Not in CI: every figure of BENCHMARKS.md (issue 11), measured and written by
# bench/run.sh (under 15 minutes on the 2-core VM; BENCH_QUICK=1 for a quick
# try, which writes BENCH_DIR/BENCHMARKS.md instead).
bench: build
	./bench/run.sh

# Rewrite atlas.sum after adding a migration file.
schema-sum:
	$(GO) run ./tools/atlassum schema/*/*

clean:
	rm -rf $(BIN) $(DEMO)
