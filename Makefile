# nsrig — see README.md. Every target installs what it is missing, so a fresh clone works.
SHELL := /bin/bash
OUT := reports/out
RUNS ?= 10
SEED ?=
AVA_FLAGS ?=
# Debian packages the tests drive for real: OCI runtimes, strace, a browser for the report test,
# Podman's seccomp profile, libseccomp's resolver, bubblewrap and hyperfine for the benchmarks.
APT_PACKAGES := runc crun strace chromium golang-github-containers-common seccomp bubblewrap hyperfine iproute2
APT_PROBES := /usr/sbin/runc /usr/bin/crun /usr/bin/strace /usr/bin/chromium /usr/share/containers/seccomp.json /usr/bin/scmp_sys_resolver /usr/bin/bwrap /usr/bin/hyperfine

.PHONY: all build test report bench stress clean deps system-deps

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: node_modules/.installed

# Installs the Debian packages only when one is missing (needs root and apt-get).
system-deps:
	@missing=0; for f in $(APT_PROBES); do [ -e $$f ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  echo "installing Debian packages: $(APT_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	fi

build: deps
	npx tsc -p tsconfig.json

# The suite: real namespaces, mounts, seccomp filters, runc and crun. Needs root. The host guard
# (test/host-guard/) fails the run when the host is not as it was before (names, sysctls, /dev
# nodes, leftover mounts, cgroups, state, processes), even if every test passed.
test: system-deps build
	@before=$$(mktemp /tmp/host-guard-XXXXXX.json) && node dist/test/host-guard/host-guard.js save "$$before" || exit 1; \
	npx c8 ava $(AVA_FLAGS); status=$$?; \
	node dist/test/host-guard/host-guard.js compare "$$before"; guard=$$?; rm -f "$$before"; \
	[ $$status -eq 0 ] && [ $$guard -eq 0 ]

# The default conformance suite on the built-in engine, as HTML, JUnit and JSON.
report: build
	@mkdir -p $(OUT)
	node bin/nsrig.js check --target builtin --trace --runs $(RUNS) $(if $(SEED),--seed $(SEED)) \
	  --json $(OUT)/results.json --junit $(OUT)/report.xml --html $(OUT)/report.html; \
	  status=$$?; echo "report: $(abspath $(OUT)/report.html)"; exit $$status

bench: system-deps build
	node dist/bench/launch.js

stress: build
	node dist/bench/stress.js --sequential 2000 --concurrent 200 --in-flight 8

clean:
	rm -rf dist coverage $(OUT)
