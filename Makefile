# Everyday verbs over CMake. The real build lives in CMakeLists.txt.
#   make            build (build/)
#   make demo       the main job on the embedded default: a one-machine network, an agreement's life
#   make check      install missing deps, build, run every test (SANITIZE=address,undefined in CI)
#   make bench      optimised build in build-bench/, run every bench/ program (fails if one cannot run)
#   make builds     build every CMake build type (Debug, Release, RelWithDebInfo, MinSizeRel)
#   make check-dates  the suite at three dates (libfaketime) and twice under stress
#   make fuzz       clang + libFuzzer build in build-fuzz/, run each target FUZZ_SECONDS
#   make format     apply .clang-format;  make format-check: fail on any difference
#   make torture    kill -9 a committing ledger 2000 times (tests/integration/ledger_crash.sh)
BUILD        ?= build
SANITIZE     ?=
FUZZ_SECONDS ?= 30
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)
SOURCES       = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all deps demo check check-dates bench builds fuzz format format-check torture clean

all: $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/Makefile:
	@bash scripts/deps.sh
	@cmake -S . -B $(BUILD) -DSANITIZE=$(SANITIZE) >/dev/null

deps:
	@bash scripts/deps.sh

demo: all
	@SL_BIN=$(CURDIR)/$(BUILD)/slaledger bash scripts/demo.sh

check: deps
	@cmake -S . -B $(BUILD) -DSANITIZE=$(SANITIZE) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@$(MAKE) --no-print-directory format-check
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-bench -j $(JOBS) --target benches
	@for b in build-bench/bench_*; do echo "== $$b"; $$b || { echo "bench: $$b failed" >&2; exit 1; }; done

# Every CMake build type builds without a warning (optimisation levels find different ones).
builds: deps
	@for t in Debug Release RelWithDebInfo MinSizeRel; do \
	    echo "== build type $$t"; \
	    cmake -S . -B build-types/$$t -DCMAKE_BUILD_TYPE=$$t >/dev/null && \
	    cmake --build build-types/$$t -j $(JOBS) >build-types/$$t.log 2>&1 || \
	    { grep -E 'error|warning' -A3 build-types/$$t.log | head -n 40; exit 1; }; \
	done

fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSL_FUZZ=ON \
	    -DSANITIZE=address,undefined >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@mkdir -p fuzz/artifacts
	@for f in build-fuzz/fuzz_*; do \
	    t=$$(basename $$f); c=fuzz/corpus/$${t#fuzz_}; w=$$(mktemp -d); [ -d $$c ] || c=; \
	    echo "== $$t for $(FUZZ_SECONDS)s (seeds: $$c)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	        -artifact_prefix=fuzz/artifacts/ $$w $$c >fuzz/artifacts/$$t.log 2>&1 \
	        || { tail -n 60 fuzz/artifacts/$$t.log; rm -rf $$w; exit 1; }; \
	    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' fuzz/artifacts/$$t.log; rm -rf $$w; \
	done

check-dates: deps
	@cmake -S . -B $(BUILD) -DSANITIZE=$(SANITIZE) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@bash scripts/check-dates.sh $(BUILD)

torture: all
	@TRIALS=2000 SL_BIN=$(CURDIR)/$(BUILD)/slaledger SL_BUILD_DIR=$(CURDIR)/$(BUILD) \
	    SL_SOURCE_DIR=$(CURDIR) bash tests/integration/ledger_crash.sh

format:
	@clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run -Werror $(SOURCES) && echo "format: ok"

clean:
	rm -rf build build-bench build-fuzz build-types
