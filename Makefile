# The two set-up commands (see README.md):
#   make serve   install deps if missing, build, start pipy on 127.0.0.1:8080 (data in ./pipy-data)
#   make test    install deps if missing, build, run every test
BUILD_DIR ?= build
DATA_DIR ?= pipy-data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)

.PHONY: all deps deps-build build serve test bench clean

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

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	@scripts/install-deps.sh --bench
	bench/run.sh
	bench/npm.sh

clean:
	rm -rf $(BUILD_DIR)
