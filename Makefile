# nsrig — see README.md. Every target installs what it is missing, so a fresh clone works.
SHELL := /bin/bash
NODE_MODULES := node_modules/.installed
OUT := reports/out

.PHONY: all build test report bench clean deps

all: build

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: $(NODE_MODULES)

build: $(NODE_MODULES)
	npx tsc -p tsconfig.json

# The suite: real namespaces, mounts, seccomp filters, runc and crun. Needs root.
test: build
	npx c8 ava

report: build
	node dist/cli/main.js check --runs $${RUNS:-25} --json $(OUT)/results.json --junit $(OUT)/report.xml --html $(OUT)/report.html
	@echo "report: $(abspath $(OUT)/report.html)"

bench: build
	node dist/bench/launch.js

clean:
	rm -rf dist coverage $(OUT)
