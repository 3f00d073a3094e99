# Berth: `make run` starts a one-node cluster; `make test` runs the whole suite.
BUILD ?= build
DATA_DIR ?= $(CURDIR)/.berth
PORT ?= 6443
JOBS ?= $(shell nproc)

.PHONY: all deps build run test bench clean

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j$(JOBS)

run: build
	@echo "Starting berth server (data in $(DATA_DIR)); Ctrl-C stops it."
	@echo "In another shell: export KUBECONFIG=$(DATA_DIR)/admin.kubeconfig; kubectl get ns"
	$(BUILD)/berth server --data-dir $(DATA_DIR) --secure-port $(PORT) --allow-host-network-namespace

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 1200

bench: build
	bash bench/run.sh

clean:
	rm -rf $(BUILD)
