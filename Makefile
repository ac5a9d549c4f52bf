# certdocs — one target per job. `make help` lists them.
SHELL := /bin/bash
# The interpreter .venv is made from (tools/python.sh): Debian's own /usr/bin/python3 where it is
# 3.11 or newer, else the python3 on PATH. Debian builds it with profile-guided and link-time
# optimisation: pure Python runs about a fifth quicker on it than on a plain build (pyenv's
# default), the tests about 8% (docs/python.md). `make PYTHON=python3.12 …` picks another (remove
# .venv first to remake it).
PYTHON ?= $(shell $(dir $(abspath $(lastword $(MAKEFILE_LIST))))tools/python.sh)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WARM := $(VENV)/.tests-warm
HERE := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
# The jobs' variables are set on the command line only (`make certificate AUDIT=… OUTPUT=…`): a
# variable of the same name that other software left in the environment (OUTPUT, RECORDS,
# ISSUE_DATE …) must not redirect certdocs, date its documents, or change what `make clean` removes.
given = $(if $(filter command line,$(origin $(1))),$($(1)),$(2))
AUDIT := $(call given,AUDIT,fixtures/xbht-s04-2025/pass.json)
SCHEME := $(call given,SCHEME,xbht-s04-2025)
DECISIONS := $(call given,DECISIONS,fixtures/decisions/2026-47.json)
OUTPUT := $(call given,OUTPUT,output)
ISSUE_DATE := $(call given,ISSUE_DATE,)
# Records (register and archive) live apart from output/: `make clean` never touches them.
RECORDS := $(call given,RECORDS,records)
REGISTER := $(call given,REGISTER,$(RECORDS)/register.sqlite3)

.DEFAULT_GOAL := help
.PHONY: help setup system-deps test-deps certificate batch test lint unit bench bench-tests regenerate archive templates workbook workbooks clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) system-deps ## create .venv, install Python packages and (as root) Debian packages

system-deps: ## install (as root) or name the missing Debian packages: LibreOffice, CJK fonts, poppler, zbar
	@tools/system-deps.sh runtime

test-deps: setup ## also what the tests need: LibreOffice Calc, Chromium, PostgreSQL
	@tools/system-deps.sh test
	@$(MAKE) --no-print-directory $(WARM)

# Once after installing, after the system packages (collecting imports the tests): what every
# test process and child would otherwise make in the first run, each for itself (about 15 s of
# CPU): the compiled package and tests (pytest's assertion-rewritten modules, by collecting) and
# hypothesis's tables of Unicode characters and of our code's constants (.hypothesis/, ignored by
# git). Later changes recompile only what changed, as usual.
$(WARM): $(STAMP)
	$(BIN)/python -m compileall -q src tests tools bench
	$(BIN)/pytest -q --collect-only -n 0 -p no:cacheprovider >/dev/null
	$(BIN)/python -c "from hypothesis.internal.charmap import charmap, intervals_from_codec; charmap(); intervals_from_codec('utf-8')"
	@touch $(WARM)

certificate: setup ## score AUDIT=file.json and issue its documents and issue pack under output/
	$(BIN)/certdocs certificate "$(AUDIT)" --output "$(OUTPUT)" --records "$(RECORDS)" --register "$(REGISTER)" $(if $(ISSUE_DATE),--issue-date $(ISSUE_DATE))

batch: setup ## issue every approved certificate of DECISIONS=meeting.json|.csv|.xlsx
	$(BIN)/certdocs batch "$(DECISIONS)" --output "$(OUTPUT)" --records "$(RECORDS)" --register "$(REGISTER)"

regenerate: setup ## rebuild issued documents whose template, profile, scheme or audit result changed
	$(BIN)/certdocs regenerate --output "$(OUTPUT)" --records "$(RECORDS)" --register "$(REGISTER)"

archive: setup ## archive signed PDFs: make archive FILES="a.pdf b.pdf"
	$(BIN)/certdocs archive $(FILES) --records "$(RECORDS)" --register "$(REGISTER)"

templates: setup ## check every Word template (Jinja syntax, split tags, unknown variables)
	$(BIN)/certdocs templates check

workbook: setup ## the auditor's Excel/WPS workbook: make workbook SCHEME=xbht-s04-2025 [FROM=audit.json] [WORKBOOK=file.xlsx]
	$(BIN)/certdocs workbook "$(SCHEME)" --output "$(or $(WORKBOOK),$(OUTPUT)/workbooks/$(SCHEME).xlsx)" $(if $(FROM),--from "$(FROM)")

workbooks: $(STAMP) ## rebuild the blank workbooks in fixtures/workbooks/ (a test checks they are current)
	$(BIN)/python tools/build_workbooks.py

lint: $(STAMP) ## ruff (lint and format) and mypy (strict)
	$(BIN)/ruff check src tests tools bench
	$(BIN)/ruff format --check src tests tools bench
	$(BIN)/mypy

unit: test-deps ## the tests that need no LibreOffice, on every core
	$(BIN)/pytest -q -n auto -m "not libreoffice"

test: test-deps lint ## the whole test suite, as CI runs it (lint, unit, LibreOffice, PDFs), on every core
	$(BIN)/pytest -q -n auto

bench: setup ## batch speed, CPU per stage and memory for 40 and 100 audits; regeneration check (BENCH_REGISTER=postgresql://… for PostgreSQL)
	$(BIN)/python bench/run.py $(if $(BENCH_REGISTER),--register "$(BENCH_REGISTER)")

bench-tests: test-deps ## the tests' wall and CPU time and the machine's speed, run RUNS=5 times (TESTS=all: every test; AGAINST=dir: alternate with another checkout)
	$(BIN)/python bench/suite.py --runs $(or $(RUNS),5) $(if $(filter all,$(TESTS)),--all) $(if $(AGAINST),--against "$(AGAINST)")

clean: ## remove output/ and caches (keeps .venv and the records in records/: register, archive)
	@$(HERE)tools/clean-output.sh "$(OUTPUT)" "$(RECORDS)"
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis $(WARM)
