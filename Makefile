# One entry point for every task; CI (.ci/run) and Cloud Build call the same scripts.
# Builds go to a cache outside the clone (as in CI), so a fresh clone reuses earlier builds.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/groundskeeper/target
# The service crates: every folder under functions/ (its name is its package and binary).
SERVICES := $(shell scripts/services.sh)
.PHONY: test lint fmt bench bench-services bench-backup bench-budget schemas demo fuzz fuzz-smoke chaos chaos-short

test:        ## run every test against real local components
	scripts/test.sh

# The fault suite on the whole local stack. `chaos`: every crash point, PostgreSQL down 30 s,
# the disk full 30 s, the emulator restarted; `chaos-short`: a sample of crash points, 5 s
# outages. Neither is in `make test`: how long they take is bounded by the Pub/Sub emulator's
# push, which can stall for minutes after a kill (RELIABILITY.md). CHAOS_UPDATE=1 writes the
# table into RELIABILITY.md. Plain `cargo test`: they outlast nextest's 10-minute limit.
chaos:       ## faults on the whole local stack: every crash point, outages, emulator restart
	cargo test -p infra-bootstrap --test emulator_redelivery -- --ignored
	UPDATE_RELIABILITY=$(CHAOS_UPDATE) cargo test -p infra-bootstrap --test faults -- \
	  --ignored --nocapture under_every_fault

chaos-short: ## the fault suite's short variant: a sample of crash points, 5 s outages
	cargo test -p infra-bootstrap --test emulator_redelivery -- --ignored
	UPDATE_RELIABILITY=$(CHAOS_UPDATE) cargo test -p infra-bootstrap --test faults -- \
	  --ignored --nocapture under_kills_and_a_database_outage

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

.PHONY: flood
flood:       ## 10 000 push deliveries across the four services: rate, p99, effects = unique events
	cargo bench -p budget-guard --bench flood

schemas:     ## regenerate events/schemas after changing a payload type
	UPDATE_SCHEMAS=1 cargo test -p events --test schemas

# Fuzzing (fuzz/, scripts/fuzz.sh): cargo-fuzz on the stable toolchain with `--sanitizer none`
# (FUZZ_SANITIZER=address uses RUSTC_BOOTSTRAP=1), built in its own target directory.
# The nightly-style run: at least 10 million executions per target, and it fails if a target
# ran fewer. The default FUZZ_SECONDS gives the slowest target (manifest, ~17k exec/s measured
# here on 2 shared cores) about 20 million. FUZZ_RUNS=10000000 also stops each target once it
# has run that many, so the fast ones do not spend the whole FUZZ_SECONDS.
FUZZ_SECONDS ?= 1200
fuzz:        ## every fuzz target for FUZZ_SECONDS (default 1200) each, >= 10M executions each
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_MIN_EXECS=10000000 \
	  FUZZ_TARGET_DIR=$(HOME)/.cache/groundskeeper/fuzz-target scripts/fuzz.sh

fuzz-smoke:  ## every fuzz target for a few seconds (CI)
	FUZZ_SECONDS=5 FUZZ_MIN_EXECS=0 \
	  FUZZ_TARGET_DIR=$(HOME)/.cache/groundskeeper/fuzz-target scripts/fuzz.sh
