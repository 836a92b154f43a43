# bluegate: `make run` starts the gateway on the embedded default; `make test` runs every test.
# Both install what they need on Debian 12 (apt as root, or through sudo).

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BUILD_PACKAGES := g++ cmake ninja-build ccache pkg-config libboost-dev libssl-dev libsqlite3-dev \
  libphonenumber-dev libprotobuf-dev rapidjson-dev libtomlplusplus-dev libcli11-dev libspdlog-dev \
  libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libpq-dev \
  libvips-dev libavcodec-dev libavformat-dev libswscale-dev libavutil-dev libjemalloc-dev
TEST_PACKAGES := nodejs npm  # openssl (the CLI) too: the TLS tests make their certificates;
# systemd for systemd-analyze (the package test checks the unit)
# The compression tests make their videos with the ffmpeg command (and read them back with ffprobe).
MEDIA_TEST_PACKAGES := ffmpeg
# The store and cluster tests run against a real PostgreSQL server (tests/with-postgres.sh).
POSTGRES_PACKAGES := postgresql python3
# The console's tests drive Debian's chromium, headless, through puppeteer-core (npm).
BROWSER_PACKAGES := chromium
BENCH_PACKAGES := wrk sqlite3

.PHONY: install package all build run test unit-test integration-test run-unit-tests run-integration-tests sanitize-test bench fuzz fuzz-build fuzz-smoke deps test-deps fuzz-deps bench-deps clean format

all: build

# Installs the Debian packages that are missing (nothing when all are there).
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_PACKAGES))

test-deps: deps
	$(call apt_install,openssl systemd $(MEDIA_TEST_PACKAGES) $(POSTGRES_PACKAGES) $(BROWSER_PACKAGES))
	@command -v node >/dev/null && command -v npm >/dev/null || { $(call apt_install,$(TEST_PACKAGES)); }
	cd tests/integration && npm ci --no-audit --no-fund --loglevel=error

bench-deps: test-deps
	$(call apt_install,$(BENCH_PACKAGES))

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/bluegate serve

# `make install [PREFIX=/usr/local] [DESTDIR=...]`: the binary, the configuration
# (PREFIX/etc/bluegate), the systemd unit and the docs (cmake --install).
PREFIX ?= /usr/local
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# `make package`: $(BUILD_DIR)/bluegate_<version>_<arch>.deb (packaging/make-deb.sh).
package: build
	packaging/make-deb.sh $(BUILD_DIR)

# Each test target starts its own PostgreSQL server (initdb on a free loopback port, torn down
# afterwards); `make test` starts one for both.
unit-test: build test-deps
	tests/with-postgres.sh $(MAKE) --no-print-directory run-unit-tests

integration-test: build test-deps
	tests/with-postgres.sh $(MAKE) --no-print-directory run-integration-tests

test: build test-deps fuzz-smoke
	tests/with-postgres.sh $(MAKE) --no-print-directory run-unit-tests run-integration-tests

# These expect BLUEGATE_TEST_DATABASE_URL (set by tests/with-postgres.sh).
run-unit-tests:
	cd $(BUILD_DIR) && ctest --output-on-failure

run-integration-tests:
	cd tests/integration && BLUEGATE_BIN=$(CURDIR)/$(BUILD_DIR)/bluegate node --test --test-concurrency=2

# Every test again against an AddressSanitizer + UBSan build (slower; not part of `make test`).
# ASan's quarantine of freed memory is kept small so that the attack tests' memory bounds measure
# the server, not the quarantine.
sanitize-test: deps test-deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBLUEGATE_SANITIZE=ON -DBLUEGATE_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=quarantine_size_mb=32 tests/with-postgres.sh sh -c './build-asan/tests/bluegate_unit_tests --gtest_brief=1 && \
	  cd tests/integration && BLUEGATE_BIN=$(CURDIR)/build-asan/bluegate node --test --test-concurrency=2'

bench: build bench-deps
	bench/run.sh

# The libFuzzer targets (fuzz/): every parser at the edge, built with clang, ASan and UBSan.
FUZZ_TARGETS := fuzz_http_request fuzz_json fuzz_send_request fuzz_webhook_config fuzz_carrier_push \
  fuzz_smpp_pdu fuzz_config fuzz_multipart fuzz_media
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 4

fuzz-deps: deps
	$(call apt_install,clang libclang-rt-14-dev)

fuzz-build: fuzz-deps
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DBLUEGATE_FUZZ=ON -DBLUEGATE_TESTS=OFF -DBLUEGATE_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS)

# Each target over its seed corpus (fuzz/corpus/<name without fuzz_>) for SECONDS; new inputs go
# to a copy under build-fuzz, never into the committed corpus.
define run_fuzzers
	@for t in $(FUZZ_TARGETS); do \
	  c=$${t#fuzz_}; mkdir -p build-fuzz/corpus/$$c && cp fuzz/corpus/$$c/* build-fuzz/corpus/$$c/ && \
	  echo "fuzzing $$t for $(1) s" && \
	  ./build-fuzz/fuzz/$$t -max_total_time=$(1) -print_final_stats=1 build-fuzz/corpus/$$c 2>build-fuzz/$$t.log || \
	  { tail -40 build-fuzz/$$t.log; echo "$$t found a crash (build-fuzz/$$t.log)"; exit 1; }; \
	  grep -h 'stat::number_of_executed_units' build-fuzz/$$t.log; \
	done
endef

# A few seconds per target: part of `make test`, so that CI catches regressions.
fuzz-smoke: fuzz-build
	$(call run_fuzzers,$(FUZZ_SMOKE_SECONDS))

# The long run (FUZZ_SECONDS per target).
fuzz: fuzz-build
	$(call run_fuzzers,$(FUZZ_SECONDS))

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)
