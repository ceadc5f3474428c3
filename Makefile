# keiryoku: the two commands a newcomer needs are `make run` and `make test`.

SHELL := /bin/bash
CARGO ?= cargo
VENV := .venv
# Where cargo builds: CARGO_TARGET_DIR when set (many developers set it globally), else target/.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
STACK := $(TARGET_DIR)/debug/local-stack

.PHONY: run test setup pdf-tools browser-tools browser fuzz build unit e2e lint events openapi bench bench-export bench-feed load perf profile sizes sam-check sam-build clean

## run: the whole platform locally (moto, dev GビズID, every function behind the API gateway on :3000)
run: setup build
	$(STACK) up

## test: unit tests of every crate, then the end-to-end tests against a fresh local stack
test: setup build unit e2e

## setup: Python venv (moto, cfn-lint, selenium, pytest), the npm packages of the dev identity
## provider and of the browser tests (axe-core), and the Debian tools the tests use: poppler-utils
## and zbar-tools (the PDF tests read certificates with them), chromium and chromium-driver
setup: $(VENV)/.installed infra/idp/node_modules/.installed tests/browser/node_modules/.installed pdf-tools browser-tools

browser-tools:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	  else \
	    echo "install the Debian packages chromium and chromium-driver (sudo apt-get install chromium chromium-driver)"; exit 1; \
	  fi; \
	fi

tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $@

pdf-tools:
	@if ! command -v pdftotext >/dev/null || ! command -v zbarimg >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q poppler-utils zbar-tools; \
	  else \
	    echo "install the Debian packages poppler-utils and zbar-tools (sudo apt-get install poppler-utils zbar-tools)"; exit 1; \
	  fi; \
	fi

$(VENV)/.installed: infra/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

infra/idp/node_modules/.installed: infra/idp/package.json infra/idp/package-lock.json
	npm ci --prefix infra/idp --no-audit --no-fund --loglevel=error
	touch $@

## build: every function binary, the local stack and the test binaries (debug)
build:
	$(CARGO) build --workspace --bins --tests

unit:
	$(CARGO) test --workspace --exclude keiryoku-e2e

# The end-to-end suites of tests/Cargo.toml, named so that cargo resolves features for the whole
# workspace (no rebuild after `make build`).
# The browser tests (tests/browser: Chromium with JavaScript on and off, axe-core, screenshots to
# docs/screenshots/) run in the same stack, after the HTTP suites.
E2E_SUITES := --test applications --test auth --test authorization --test certificates --test export --test iam --test legacy --test maintenance --test pages --test platform --test prefill --test reference --test reference_data --test restore --test review --test security --test submission
e2e:
	$(STACK) exec -- bash -c '$(CARGO) test --workspace $(E2E_SUITES) && $(VENV)/bin/pytest -q -p no:cacheprovider tests/browser && SCHEMATHESIS=$(VENV)/bin/schemathesis bash infra/fuzz/run.sh'

## fuzz: a bounded schemathesis run over /openapi.json as an applicant and as a reviewer, against
## a fresh local stack: no 5xx, another company's data unchanged (also the last step of e2e)
fuzz: setup build
	$(STACK) exec -- env SCHEMATHESIS=$(VENV)/bin/schemathesis bash infra/fuzz/run.sh

## browser: only the browser tests, against a fresh local stack
browser: setup build
	$(STACK) exec -- $(VENV)/bin/pytest -q -p no:cacheprovider tests/browser

## lint: formatting, clippy with warnings as errors, cfn-lint of template.yaml
lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml infra/edge/waf.yaml

## events: regenerate events/ (one API Gateway v2 sample per route of template.yaml)
events: build
	$(STACK) events

## openapi: write functions/platform/openapi.json from the handlers' annotations and types
openapi:
	$(CARGO) build --bin keiryoku-openapi
	$(TARGET_DIR)/debug/keiryoku-openapi > functions/platform/openapi.json

## bench: start-up time of each function next to a hello-world lambda_http binary (release build),
## the render time and weight of every applicant page,
## validate + route of one application, and one certificate
bench:
	$(CARGO) build --release --bins
	KEIRYOKU_BIN_DIR=$(TARGET_DIR)/release $(TARGET_DIR)/release/local-stack bench-startup 30
	$(CARGO) bench -p keiryoku-domain
	$(CARGO) bench -p keiryoku-pdf
	$(CARGO) bench -p keiryoku-fn-web

## load: a bounded wrk run of the applicant mix (reads, autosaves, submits) against the local stack
## (release build): throughput, p50/p99, errors, CPU per request of our processes vs moto's.
## LOAD_THREADS (8), LOAD_DURATION (30s), LOAD_SUBMIT_DRAFTS (60 per thread).
load: setup
	$(CARGO) build --release --bins
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q wrk; else echo "install wrk (sudo apt-get install wrk)"; exit 1; fi; \
	fi
	KEIRYOKU_BIN_DIR=$(TARGET_DIR)/release $(TARGET_DIR)/release/local-stack exec -- bash infra/load/run.sh

## perf: every performance figure in one run on this machine, one table (figure, measured, goal,
## ratio, pass/fail): start-up of each function vs hello-world (30 interleaved rounds, the
## applications function also with an authenticated read), CPU per request of the applicant mix,
## the certificate's size and time, page render and weight, an export extract (PERF_EXPORT_N,
## 20000). Release build; needs wrk (installed when root). Exits 1 when a row misses its goal.
perf: setup
	$(CARGO) build --release --bins
	$(CARGO) bench --no-run -q -p keiryoku-pdf -p keiryoku-fn-web
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q wrk; else echo "install wrk (sudo apt-get install wrk)"; exit 1; fi; \
	fi
	KEIRYOKU_BIN_DIR=$(TARGET_DIR)/release CARGO=$(CARGO) $(TARGET_DIR)/release/local-stack exec -- $(VENV)/bin/python infra/perf/perf.py

## profile: where our CPU goes under the applicant mix: perf samples every function process during
## a load run, with DWARF call graphs; the applications and effects binaries are linked again with
## their symbols (`-C strip=none`, into $(TARGET_DIR)/profile-bin) so the report names functions:
## the split by process, the flame graph's top entries, and the self time by crate
profile: setup
	$(CARGO) build --release --bins
	rm -rf $(TARGET_DIR)/profile-bin && mkdir -p $(TARGET_DIR)/profile-bin
	cp $(TARGET_DIR)/release/* $(TARGET_DIR)/profile-bin/ 2>/dev/null || true
	$(CARGO) rustc --release -q -p keiryoku-fn-applications --bin applications -- -C strip=none
	cp $(TARGET_DIR)/release/applications $(TARGET_DIR)/profile-bin/
	$(CARGO) rustc --release -q -p keiryoku-fn-effects --bin effects -- -C strip=none
	cp $(TARGET_DIR)/release/effects $(TARGET_DIR)/profile-bin/
	KEIRYOKU_BIN_DIR=$(TARGET_DIR)/profile-bin $(TARGET_DIR)/profile-bin/local-stack exec -- bash infra/perf/profile.sh

## bench-export: import N synthetic legacy certifications, then one bulk extract of all of them
## (N=20000; several sizes in one stack, the table growing: N="20000 100000 200000")
N ?= 20000
bench-export: build
	$(STACK) exec -- bash infra/load/export.sh "$(N)"

## bench-feed: FEED_N submissions through the API (2000), then the change feed read in pages of
## 1,000 by the SME Agency's client: time per page
FEED_N ?= 2000
bench-feed: build
	$(STACK) exec -- $(VENV)/bin/python infra/load/feed.py $(FEED_N)

## sizes: release binary size of each function
sizes:
	$(CARGO) build --release --bins
	@ls -l $(TARGET_DIR)/release/{auth,applications,review,effects,documents,platform,reference,bench-hello,bench-hello-sdk} | awk '{printf "%-40s %6.2f MB\n", $$9, $$5/1048576}'

# SAM CLI, cargo-lambda and zig from PyPI, in a venv of their own (no Docker).
SAM_VENV := .venv-sam
SAM := PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=ap-northeast-1 \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-none} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-none} \
	$(SAM_VENV)/bin/sam

$(SAM_VENV)/.installed: infra/requirements-sam.txt
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-sam.txt
	touch $@

## sam-check: `sam validate --lint`, then `sam build` of one function (release, cross-built by
## cargo-lambda with zig) — what CI runs; a cold release build of every function takes ~40 minutes
## on 2 cores, so CI builds one and `make sam-build` builds all
SAM_CHECK_FUNCTION ?= ReferenceFunction
sam-check: $(SAM_VENV)/.installed
	$(SAM) validate --lint --template template.yaml
	$(SAM) build --beta-features --template template.yaml $(SAM_CHECK_FUNCTION)

## sam-build: `sam build` of every function, as `sam deploy` needs it
sam-build: $(SAM_VENV)/.installed
	$(SAM) build --beta-features --template template.yaml

clean:
	$(CARGO) clean
	rm -rf $(VENV) $(SAM_VENV) .aws-sam infra/idp/node_modules .local
