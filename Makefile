# One entry point for every task; CI (.ci/run) and Cloud Build call the same scripts.
.PHONY: test lint fmt bench schemas

test:        ## run every test against real local components
	scripts/test.sh

lint:        ## cargo fmt --check and clippy -D warnings
	scripts/lint.sh

fmt:
	cargo fmt --all

bench:       ## the runtime benchmark (prints figures; see BENCHMARKS.md)
	cargo bench -p shared --bench runtime

schemas:     ## regenerate events/schemas after changing a payload type
	UPDATE_SCHEMAS=1 cargo test -p events --test schemas
