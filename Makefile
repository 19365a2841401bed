# Entry points. Each target does its own set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
export CONTAINERS_CONF ?= $(CURDIR)/lab/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export MAIL_IAC_ROOT := $(CURDIR)
# Mitogen runs the lab, Molecule, the benchmark and the tests' playbooks
# (plugins/strategy/mail_mitogen_linear.py): make test MAIL_ANSIBLE_STRATEGY=linear
# runs them with Ansible's plain strategy. ansible.cfg (production) keeps linear.
export MAIL_ANSIBLE_STRATEGY ?= mail_mitogen_linear
# Seconds Ansible waits to connect to a host (Mitogen: for the interpreter it starts
# in a container to answer). Ansible's default, 10, is too short on the loaded
# 2-core test machine: bench-short's container (a quarter of the CPU shares) once
# missed it at the first task of a converge. The lab, Molecule and the benchmark
# only; production's ansible.cfg keeps Ansible's default.
export ANSIBLE_TIMEOUT ?= 60
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
SCENARIOS ?= default debian12 edge backup

.PHONY: help setup images lab lab-destroy drill test lint unit preflight molecule bench bench-short audit docs clean

help:
	@echo 'targets: lab (deploy the lab and show mail flowing), test (everything CI runs),'
	@echo '         drill lint unit preflight molecule bench bench-short audit docs lab-destroy clean'

setup:
	scripts/setup.sh

## The bare Debian 13 and 12 images. The package images the edge and backup
## scenarios start from (trixie-base, trixie-mail) are built by
## scripts/molecule-all.sh beside the first scenarios, or by
## `scripts/build-images.sh trixie-mail` (which makes trixie-base first).
images: setup
	scripts/build-images.sh trixie bookworm

## The main job: deploy the mail system onto the local lab and show mail flowing.
lab: images
	scripts/lab.sh up

lab-destroy:
	scripts/lab.sh destroy

## The load-and-fault drill on the lab's Debian 13 host (deployed first, as `make lab`
## does): 10 minutes of traffic at 20 msg/s while clamd, Dovecot, LMTP, a site.yml
## change and a full mail file system hit it; prints what was lost or duplicated
## (nothing, or it fails), each fault's alert and the delivery latency. DRILL_ARGS
## passes options (scripts/drill.py -h).
DRILL_ARGS ?=
drill: lab
	python scripts/drill.py $(DRILL_ARGS)

## The tests: lint, unit tests, preflight (bad input) tests, all molecule scenarios.
## The scenarios start first and run in the background (their logs are printed
## when they end): they wait mostly on task round trips, so the controller-side
## checks run meanwhile. Every step runs; the exit status is non-zero if any failed.
## The scenarios are chains (create, converge, verify: each step waits for the one
## before), the controller-side checks are not, so the cores go to the chains
## first: lint, unit and bench-short run at nice $(TEST_NICE) (bench-short's
## container at a quarter of the CPU shares), and preflight, the largest check
## (~400 CPU-seconds) and the only one that starts no container, runs in the idle
## scheduling class (`$(TEST_IDLE)`): it takes only CPU time nothing else wants,
## which the scenarios leave once their converges are done and their verify steps
## wait on the servers. (A check that calls podman stays at nice: in the idle class
## it could hold podman's locks while starved and stall the scenarios.) Figures
## in README (Test suite time).
## Last, the consolidated conformance report of every run (reports/conformance/
## REPORT.md and REPORT.html): non-zero when any control is FAIL or NOT PROVEN.
TEST_NICE ?= 10
TEST_IDLE ?= chrt --idle 0
test: images
	@rm -rf reports/conformance; mkdir -p reports; rc=0; \
	scripts/molecule-all.sh $(SCENARIOS) > reports/molecule-all.out 2>&1 & mpid=$$!; \
	nice -n $(TEST_NICE) $(MAKE) --no-print-directory lint || rc=1; \
	nice -n $(TEST_NICE) $(MAKE) --no-print-directory unit || rc=1; \
	$(TEST_IDLE) $(MAKE) --no-print-directory preflight || rc=1; \
	BENCH_CPU_SHARES=256 nice -n $(TEST_NICE) $(MAKE) --no-print-directory bench-short || rc=1; \
	echo "== controller-side checks done (rc $$rc); waiting for the Molecule scenarios: $(SCENARIOS)"; \
	wait $$mpid || rc=1; \
	cat reports/molecule-all.out; \
	scripts/conformance-report.py --expect unit preflight $(SCENARIOS) || rc=1; \
	exit $$rc

lint: setup
	yamllint --strict .
	ansible-lint --offline

## Unit and preflight tests share no state: pytest-xdist spreads them over the cores.
unit: setup
	pytest -q -n 2 tests/unit

preflight: setup
	pytest -q -n 2 tests/preflight

molecule: images
	scripts/molecule-all.sh $(SCENARIOS)

## The benchmark (figures, no verdict): both strategies side by side, the apt floor,
## antivirus throughput, webmail latency (login, an inbox of 5,000, 1 and 20 sessions),
## accounts at scale, clamd's load time and memory with a
## database the size of the official one. bench-short (in make test): one converge
## and one idle re-run, so the benchmark cannot break unnoticed.
bench: images
	scripts/bench.sh

bench-short: images
	scripts/bench.sh --short

## Read-only conformance audit of deployed servers: make audit INVENTORY=inventories/production/hosts.yml
audit: setup
	@test -n "$(INVENTORY)" || { echo 'usage: make audit INVENTORY=<inventory>'; exit 2; }
	ansible-playbook -i $(INVENTORY) playbooks/audit.yml

## The architecture picture: docs/architecture.dot -> docs/architecture.svg (Graphviz,
## installed from Debian if missing). The SVG records the .dot file's sha256, so
## tests/unit/test_docs.py finds a stale picture without Graphviz.
docs:
	@command -v dot >/dev/null || { echo 'docs: installing graphviz'; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null; }
	dot -Tsvg docs/architecture.dot | sed "1a <!-- source: docs/architecture.dot sha256 $$(sha256sum docs/architecture.dot | cut -d' ' -f1) -->" > docs/architecture.svg.tmp
	mv docs/architecture.svg.tmp docs/architecture.svg

clean: lab-destroy
	-for s in $(SCENARIOS); do molecule -c .config/molecule/config.yml destroy -s $$s; done
