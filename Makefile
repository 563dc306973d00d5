# The two set-up commands (see README.md):
#   make serve   install deps if missing, build, start pipy on 127.0.0.1:8080 (data in ./pipy-data)
#   make test    install deps if missing, build, run every test (SANITIZE=asan: on ASan+UBSan)
# and the sanitizer runs (scripts/sanitize-test.sh; README.md, "Sanitizers"):
#   make test-asan   build in build-asan with ASan+UBSan, run every test (unit and e2e) on it
#   make test-tsan   build the concurrent code's tests in build-tsan with TSan, run them
BUILD_DIR ?= build
DATA_DIR ?= pipy-data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan

.PHONY: all deps deps-build build serve test test-asan test-tsan bench clean

all: build

deps:
	@scripts/install-deps.sh

deps-build:
	@scripts/install-deps.sh --build

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

serve: deps-build $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target pipy
	@echo "pipy: data in ./$(DATA_DIR); point your tools at it with:"
	@echo "  pip install --index-url http://$(LISTEN)/simple/ <project>"
	@echo "  twine upload --repository-url http://$(LISTEN)/legacy/ -u __token__ -p <token> dist/*"
	@echo "  (create a token: $(BUILD_DIR)/src/pipy token create --data $(DATA_DIR) --name me --scope 'upload:*')"
	$(BUILD_DIR)/src/pipy serve --data $(DATA_DIR) --listen $(LISTEN)

# SANITIZE=asan runs the same tests on an ASan + UBSan build instead (what CI does).
SANITIZE ?=
ifeq ($(SANITIZE),)
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
else ifeq ($(SANITIZE),asan)
test: test-asan
else
test:
	@echo "SANITIZE must be empty or asan (TSan: make test-tsan)" >&2; exit 2
endif

test-asan: deps
	JOBS=$(JOBS) scripts/sanitize-test.sh asan $(ASAN_BUILD_DIR)

test-tsan: deps
	JOBS=$(JOBS) scripts/sanitize-test.sh tsan $(TSAN_BUILD_DIR)

bench: build
	@scripts/install-deps.sh --bench
	bench/run.sh
	bench/npm.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(TSAN_BUILD_DIR)
