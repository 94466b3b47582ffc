# Serverless Orders — the commands a user learns once.
#   make local    the whole pipeline on this machine (ORDERS_PORT, ORDERS_WAIT_SECONDS, ...)
#   make test     everything CI runs (lint, unit, emulator and end-to-end tests, zips)
#   make preview  the Pulumi program against a mock engine: target/preview/plan.json, no cloud
#   make engine   its whole lifecycle under the real pulumi CLI, offline: target/engine/report.json
#   make destroy  `pulumi destroy` of the selected stack, in one run
#   make upstream the offline plan judged by the real AWS provider: target/upstream/report.json
#   make zips     the Lambda zip archives, one per function (ARCH=x86_64|arm64)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
# Tools of the virtualenv (cargo-lambda, zig) come first on PATH. The emulator is started
# through tools/moto_launcher.py (orders-emulator's default), never moto_server directly:
# the launcher serialises moto's ASL parse, which executions starting together corrupt.
export PATH := $(VENV)/bin:$(PATH)

# Lambda architecture of the zips. Tests build for this machine; AWS defaults to arm64.
ARCH ?= x86_64
FUNCTIONS := start-order manage-order-state process-payment send-order get-order cancel-order order-events authorize-socket socket-connections push-status

# The AWS provider version of the program's schema, and its npm SDK (the reference for
# property names) unpacked under target/.
PROVIDER_VERSION := $(shell python3 -c "import json; print(json.load(open('infra/schema/aws.json'))['version'])")
PROVIDER_SDK := target/provider/aws-$(PROVIDER_VERSION)

# The real pulumi CLI, built from its Go module (engine/pulumi/go.mod pins the version) into a
# cache outside the clone, and the stand-in language host (engine/pulumi/language-rust).
PULUMI_VERSION := $(shell sed -n 's/^[[:space:]]*github.com\/pulumi\/pulumi\/pkg\/v3 \(v[^ ]*\).*/\1/p' engine/pulumi/go.mod)
ENGINE_CACHE ?= $(HOME)/.cache/serverless-orders/pulumi-$(PULUMI_VERSION)
# The lifecycle test finds them through these.
export ORDERS_PULUMI := $(ENGINE_CACHE)/pulumi
export ORDERS_LANGUAGE_HOST := $(CURDIR)/target/engine/bin/pulumi-language-rust

.PHONY: help local venv oracles lint lint-workflows tests test reliability bench bench-zips zips check-zips check-schema preview engine engine-tools upstream upstream-tools destroy clean

help:
	@echo "make local       run the whole pipeline here (API on 127.0.0.1:$${ORDERS_PORT:-3000})"
	@echo "make test        run everything CI runs"
	@echo "make reliability run the load, fault and bad-input tests with their figures"
	@echo "make bench       measure sizes, cold starts, memory, handler cost, throughput, cost"
	@echo "make preview     run the Pulumi program offline (mock engine): target/preview/plan.json"
	@echo "make engine      its whole lifecycle under the real pulumi CLI, offline: target/engine/report.json"
	@echo "make destroy     pulumi destroy of the selected stack, in one run"
	@echo "make upstream    the offline plan judged by terraform-provider-aws (builds it once: about 27 min, over 9 GB of memory)"
	@echo "make zips        build the Lambda zips (ARCH=$(ARCH))"
	@echo "make venv        install the pinned emulator and cargo-lambda into .venv"

$(VENV)/.installed: tools/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

venv: $(VENV)/.installed

# Third-party implementations the tests check us against (tools/oracles/package-lock.json
# pins them): a Velocity engine for the API's templates, asl-validator and an ASL
# interpreter (aws-local-stepfunctions) for the state machine, Ajv for the order schema.
ORACLES := tools/oracles/node_modules/.installed
$(ORACLES): tools/oracles/package.json tools/oracles/package-lock.json
	npm ci --prefix tools/oracles --no-audit --no-fund --silent
	touch $@

oracles: $(ORACLES)

# Runs in the foreground; Ctrl-C stops the runner and its emulator.
local: venv
	cargo run --locked --quiet --package orders-local

lint: lint-workflows
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

# The GitHub workflows never run here, so a linter reads them: actionlint (built from its Go
# module into the cache, like the pulumi CLI) checks expressions, step outputs and action
# inputs against each action's metadata, and runs shellcheck over every `run:` script.
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(HOME)/.cache/serverless-orders/actionlint-$(ACTIONLINT_VERSION)/actionlint
$(ACTIONLINT):
	GOBIN=$(dir $@) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

lint-workflows: $(ACTIONLINT)
	@command -v shellcheck >/dev/null || { echo "shellcheck is required (apt-get install shellcheck)" >&2; exit 1; }
	$(ACTIONLINT) -shellcheck shellcheck .github/workflows/*.yml

tests:
	cargo test --workspace --locked
	@echo "Reliability figures of this run:"
	@cat target/tmp/reliability-*.json

# The zips come first: the offline preview and lifecycle tests deploy them.
test: venv oracles lint zips check-zips check-schema engine-tools tests

# The reliability tests alone, with their figures; ORDERS_LOAD_ORDERS, ORDERS_LOAD_CONCURRENCY
# and ORDERS_FUZZ_CASES size them.
reliability: venv
	cargo test --locked --package orders-local --test reliability -- --nocapture

# Benchmarks, not tests: writes target/bench/report.md and report.json. Run it on an
# otherwise idle machine; BENCH_COLD_STARTS, BENCH_INVOCATIONS, BENCH_E2E_ORDERS and
# BENCH_E2E_CONCURRENCY size it.
bench: venv zips bench-zips
	cargo build --locked --package orders-local
	cargo bench --locked --package orders-bench --bench handlers
	cargo run --locked --quiet --package orders-bench

# cargo-lambda names the flag after the architecture: --x86-64 or --arm64.
zips: venv
	cargo lambda build --release --locked --output-format zip --$(subst _,-,$(ARCH)) \
		$(addprefix --package ,$(FUNCTIONS))

# What the benchmark adds to `make zips`: its bare baseline function, and every archive
# for arm64 as well (cross-built with zig from the venv) in target/lambda-arm64.
bench-zips: venv
	cargo lambda build --release --locked --output-format zip --x86-64 --package orders-baseline
	cargo lambda build --release --locked --output-format zip --arm64 --lambda-dir target/lambda-arm64 \
		$(addprefix --package ,$(FUNCTIONS) orders-baseline)

check-zips:
	python3 tools/check_zips.py --arch $(ARCH) $(FUNCTIONS)

$(PROVIDER_SDK)/package/package.json:
	mkdir -p $(PROVIDER_SDK)
	npm pack --silent --pack-destination $(PROVIDER_SDK) @pulumi/aws@$(PROVIDER_VERSION) >/dev/null
	tar -xzf $(PROVIDER_SDK)/pulumi-aws-$(PROVIDER_VERSION).tgz -C $(PROVIDER_SDK)

# Every type token and property name of infra/schema/aws.json exists in the real provider.
check-schema: $(PROVIDER_SDK)/package/package.json
	python3 tools/check_provider_schema.py infra/schema/aws.json $(PROVIDER_SDK)/package

# The no-cloud `pulumi preview`: the program against the mock engine with the dev stack's
# settings, deploying this machine's zips. PREVIEW_FLAGS=--update answers as after a deploy.
preview: zips
	cargo build --locked --quiet --package orders-infra --package orders-engine --bins
	target/debug/orders-preview --stack dev --set architecture=$(ARCH) --set buildFunctions=false $(PREVIEW_FLAGS)

$(ORDERS_PULUMI): engine/pulumi/go.mod engine/pulumi/go.sum
	@echo "building pulumi $(PULUMI_VERSION) from its Go module (minutes, once) into $(ENGINE_CACHE)"
	cd engine/pulumi && go build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$(PULUMI_VERSION)" \
		-o $@ github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

$(ORDERS_LANGUAGE_HOST): engine/pulumi/language-rust/main.go engine/pulumi/go.mod engine/pulumi/go.sum
	cd engine/pulumi && go build -o $@ ./language-rust

engine-tools: $(ORDERS_PULUMI) $(ORDERS_LANGUAGE_HOST)

# Stack, config (one secret), preview, up, outputs, no-change runs from two checkouts, a
# config change, destroy: the README's deploy steps under the real engine, with the stand-in
# provider's made-up account in place of AWS.
engine: venv zips engine-tools
	cargo test --locked --package orders-engine --test lifecycle -- --nocapture

# The real AWS provider's own code, asked offline (not part of `make test`: the first build takes
# about 27 minutes and over 9 GB of memory; .github/workflows/upstream.yml runs it weekly with a
# cache). pulumi-aws is a bridge over terraform-provider-aws, which builds from its Go module
# (engine/upstream/provider/go.mod pins a June 2026 development build of 6.48.0); OpenTofu,
# built the same way (engine/upstream/tofu/go.mod), is the client of the plugin protocol.
# tools/upstream_check.py maps the plan to Terraform, validates and plans it, and compares the
# provider's replace decisions with the stand-in's table.
UPSTREAM_CACHE ?= $(HOME)/.cache/serverless-orders
UPSTREAM_MODULE := $(shell sed -n 's/^[[:space:]]*github.com\/hashicorp\/terraform-provider-aws \(v[^ ]*\).*/\1/p' engine/upstream/provider/go.mod)
UPSTREAM_PROVIDER := $(UPSTREAM_CACHE)/terraform-provider-aws-$(UPSTREAM_MODULE)/terraform-provider-aws
# The release that build's CHANGELOG.md heads ("6.48.0 (Unreleased)"), as OpenTofu sees it.
UPSTREAM_RELEASE := 6.48.0-dev
TOFU_VERSION := $(shell sed -n 's/^[[:space:]]*github.com\/opentofu\/opentofu \(v[^ ]*\).*/\1/p' engine/upstream/tofu/go.mod)
TOFU := $(UPSTREAM_CACHE)/tofu-$(TOFU_VERSION)/tofu
UPSTREAM := target/upstream

# The versions are in the cached paths, so the tools modules are order-only prerequisites: a
# fresh checkout (new timestamps) reuses a cached build instead of redoing 27 minutes of it.
# The binary carries the Go module version; OpenTofu is offered it as $(UPSTREAM_RELEASE).
$(UPSTREAM_PROVIDER): | engine/upstream/provider/go.mod engine/upstream/provider/go.sum
	@echo "building terraform-provider-aws $(UPSTREAM_MODULE) from its Go module (about 27 min and over 9 GB of memory, once) into $(dir $@)"
	cd engine/upstream/provider && go build -trimpath \
		-ldflags "-s -w -X github.com/hashicorp/terraform-provider-aws/version.ProviderVersion=$(UPSTREAM_MODULE)" \
		-o $@ github.com/hashicorp/terraform-provider-aws

$(TOFU): | engine/upstream/tofu/go.mod engine/upstream/tofu/go.sum
	cd engine/upstream/tofu && go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
		-o $@ github.com/opentofu/opentofu/cmd/tofu

upstream-tools: $(UPSTREAM_PROVIDER) $(TOFU)

upstream: venv oracles zips upstream-tools
	cargo build --locked --quiet --package orders-infra --package orders-engine --bins
	@mkdir -p $(UPSTREAM)/plans
	target/debug/orders-aws-facts > $(UPSTREAM)/stand-in-facts.json
	target/debug/orders-preview --update --set architecture=$(ARCH) --set buildFunctions=false --out $(UPSTREAM)/plans/base.json >/dev/null
	target/debug/orders-preview --update --set architecture=$(ARCH) --set buildFunctions=false --set waitSeconds=5 --out $(UPSTREAM)/plans/wait-seconds.json >/dev/null
	target/debug/orders-preview --update --set architecture=$(ARCH) --set buildFunctions=false --set prefix=orders-renamed --out $(UPSTREAM)/plans/renamed.json >/dev/null
	python3 tools/upstream_check.py --tofu $(TOFU) --provider $(UPSTREAM_PROVIDER) \
		--provider-module github.com/hashicorp/terraform-provider-aws@$(UPSTREAM_MODULE) --provider-version $(UPSTREAM_RELEASE) \
		--overrides engine/upstream/pulumi-aws.json --facts $(UPSTREAM)/stand-in-facts.json \
		--base $(UPSTREAM)/plans/base.json --scenario wait-seconds=$(UPSTREAM)/plans/wait-seconds.json \
		--scenario renamed=$(UPSTREAM)/plans/renamed.json --changed-zip start-order \
		--out $(UPSTREAM)/report.json

# `pulumi destroy` in one run: the program sends no dependency edges, so the engine would
# delete in any order; record them in the state first (tools/record_dependencies.py).
destroy:
	@mkdir -p target
	pulumi stack export | python3 tools/record_dependencies.py > target/stack-with-dependencies.json
	pulumi stack import --file target/stack-with-dependencies.json
	pulumi destroy --yes $(DESTROY_FLAGS)

clean:
	cargo clean
	rm -rf $(VENV)
