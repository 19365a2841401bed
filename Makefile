# Entry points. Each target does its own set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
export CONTAINERS_CONF ?= $(CURDIR)/lab/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export MAIL_IAC_ROOT := $(CURDIR)
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
# backup is run on its own (make molecule SCENARIOS=backup) until it is proven green.
SCENARIOS ?= default edge backup

.PHONY: help setup images lab lab-destroy test lint unit preflight molecule bench audit clean

help:
	@echo 'targets: lab (deploy the lab and show mail flowing), test (everything CI runs),'
	@echo '         lint unit preflight molecule bench audit lab-destroy clean'

setup:
	scripts/setup.sh

images: setup
	scripts/build-images.sh

## The main job: deploy the mail system onto the local lab and show mail flowing.
lab: images
	scripts/lab.sh up

lab-destroy:
	scripts/lab.sh destroy

## The tests: lint, unit tests, preflight (bad input) tests, all molecule scenarios.
## The scenarios start first and run in the background (their logs are printed
## when they end): they wait mostly on task round trips, so the controller-side
## checks run meanwhile. Every step runs; the exit status is non-zero if any failed.
test: images
	@mkdir -p reports; rc=0; \
	scripts/molecule-all.sh $(SCENARIOS) > reports/molecule-all.out 2>&1 & mpid=$$!; \
	$(MAKE) --no-print-directory lint || rc=1; \
	$(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory preflight || rc=1; \
	echo "== controller-side checks done (rc $$rc); waiting for the Molecule scenarios: $(SCENARIOS)"; \
	wait $$mpid || rc=1; \
	cat reports/molecule-all.out; \
	exit $$rc

lint: setup
	yamllint --strict .
	ansible-lint --offline

unit: setup
	pytest -q tests/unit

preflight: setup
	pytest -q tests/preflight

molecule: images
	scripts/molecule-all.sh $(SCENARIOS)

bench: images
	scripts/bench.sh

## Read-only conformance audit of deployed servers: make audit INVENTORY=inventories/production/hosts.yml
audit: setup
	@test -n "$(INVENTORY)" || { echo 'usage: make audit INVENTORY=<inventory>'; exit 2; }
	ansible-playbook -i $(INVENTORY) playbooks/audit.yml

clean: lab-destroy
	-for s in $(SCENARIOS); do molecule destroy -s $$s; done
