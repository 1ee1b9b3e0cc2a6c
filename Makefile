# One entry point for every task; CI (.ci/run) and Cloud Build call the same scripts.
# Builds go to a cache outside the clone (as in CI), so a fresh clone reuses earlier builds.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/groundskeeper/target
# The service crates: every folder under functions/ (its name is its package and binary).
SERVICES := $(shell scripts/services.sh)
.PHONY: test lint fmt bench bench-services bench-backup bench-budget schemas demo

test:        ## run every test against real local components
	scripts/test.sh

demo:        ## build the services, start the local stack and take the tour (stays up)
	cargo build $(addprefix -p ,$(SERVICES)) -p infra-bootstrap --bins
	"$$CARGO_TARGET_DIR/debug/groundskeeper" local demo

lint:        ## cargo fmt --check and clippy -D warnings
	scripts/lint.sh

fmt:
	cargo fmt --all

bench:       ## the runtime benchmark (prints figures; see BENCHMARKS.md)
	cargo bench -p shared --bench runtime

bench-services: ## every built service as deployed: cold start and RSS beside the Node peer
	cargo build --release $(addprefix -p ,$(SERVICES))
	cargo bench -p shared --bench services

bench-backup: ## backup-runner against plain pg_dump: throughput and peak RSS (BENCH_SIZES=100MB,1GB)
	cargo bench -p backup-runner --bench backup

bench-budget: ## budget-guard's own latency per notification (fakes that answer at once; BENCH_N)
	cargo bench -p budget-guard --bench decision

schemas:     ## regenerate events/schemas after changing a payload type
	UPDATE_SCHEMAS=1 cargo test -p events --test schemas
