# supervisor: see README.md. Everything here builds with CGO_ENABLED=0.
export CGO_ENABLED := 0
GO       ?= go
BIN      := bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X supervisor/internal/buildinfo.Version=$(VERSION)
DEMO     := demo

.PHONY: build test test-short demo bench clean schema-sum

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/supervisor ./cmd/supervisor
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/worker ./cmd/worker
	$(GO) build -o $(BIN)/fleetgen ./integration/cmd/fleetgen

# The race detector needs cgo; the end-to-end tests in integration/ build the
# real binary without it (big SQLite workloads are too slow under -race).
test:
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m $$($(GO) list ./... | grep -v '/integration$$')
	$(GO) test -count=1 -timeout 20m ./integration/

# Without PostgreSQL: only when you say so (CI never does).
test-short:
	SUPERVISOR_SKIP_POSTGRES=1 $(GO) test -count=1 ./...

# A demo workspace with products at different versions, then `status`.
demo: build
	rm -rf $(DEMO)
	$(BIN)/fleetgen -w $(DEMO)/workspace --demo
	$(BIN)/supervisor -w $(DEMO)/workspace status || true
	@echo
	@echo "Next: $(BIN)/supervisor -w $(DEMO)/workspace migrate -j 2 -y"

bench: build
	./bench/run.sh

# Rewrite atlas.sum after adding a migration file.
schema-sum:
	$(GO) run ./tools/atlassum schema/*/*

clean:
	rm -rf $(BIN) $(DEMO)
