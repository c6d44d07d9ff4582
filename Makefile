# The two commands of the README: `make run` and `make test`. Both install
# what is missing, then build.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: setup build run test unit e2e asan fuzz bench bench-ab bench-shoppers bench-leak image chart-test alerts-test image-test format clean

setup:
	@scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORRAL_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	exec $(BUILD)/bin/corral-shop --listen=0.0.0.0:8080 --admin=0.0.0.0:9901

test: build
	cd $(BUILD) && ctest --output-on-failure -j 1 --timeout 900

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

e2e: build
	cd $(BUILD) && ctest --output-on-failure -L e2e

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
asan: setup
	cmake -S . -B build-asan -DCORRAL_SANITIZE=ON -DCORRAL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-asan -j $(JOBS) --target unit_tests
	cd build-asan && ctest --output-on-failure -L unit

# The libFuzzer targets of fuzz/ (clang, ASan + UBSan, in build-fuzz), each
# for FUZZ_SECONDS over its seed corpus, then a summary of executions per
# second, coverage and crashes. `make test` runs each for 20 s.
FUZZ_SECONDS ?= 600
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# Throughput and latency against nginx, rolls under load, scrape cost; the
# Node store under corral, Node's cluster module and pm2, and behind corral's
# proxy mode, nginx and the cluster module (bench/proxy.sh); the shoppers
# scenario (bench/shoppers.sh); the leaky app in a memory limit (bench/leak.sh).
bench: setup
	bench/run.sh

# The shoppers scenario alone: the Node store behind five front ends under
# users who think, at 0.5x to 4x of its capacity, and the midnight onset.
bench-shoppers: setup
	bench/shoppers.sh

# A leaky app in a 300 MiB memory limit for 60 s under corral (socket and
# proxy mode, and without its memory guard), pm2 with max_memory_restart and
# gunicorn with max_requests: failed requests, OOM kills, recycles. Needs
# root and a cgroup v1 memory controller.
bench-leak: setup
	bench/leak.sh

# This tree against a reference commit, at 1,000 connections, corral-shop
# and the proxy: throughput ratio and sends per request (REF=<commit>).
bench-ab: setup
	bench/ab.sh

# The container image, with docker or podman (whichever works; scripts/engine.sh).
image:
	scripts/image.sh

chart-test:
	bash tests/helm/run.sh

alerts-test:
	bash tests/alerts/run.sh

image-test:
	bash tests/image/run.sh

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
