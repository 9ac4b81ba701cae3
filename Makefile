# Two commands matter: `make demo` and `make test`. Both install what is missing first,
# and neither reinstalls what is already there.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements-installed

.PHONY: setup system-deps demo demo-data test bench clean

setup: system-deps $(STAMP)

system-deps:
	@bash scripts/install_system_deps.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when requirements.txt or pyproject.toml change. The library is installed editable so
# notebook kernels (which run inside each report folder) import it.
$(STAMP): requirements.txt pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m crm_report.execute --install-kernel
	@touch $(STAMP)

demo-data: setup
	$(PY) -m crm_report.data.demo --clients-dir clients

# Two consecutive months, so the demo report also shows how last month's win-back list did against its
# control group (the month before the last complete one, then the last complete one).
# Between the two, the demo clients answer the first month's list (a simulated effect of documented size, see
# crm_report.data.demo.CAMPAIGN_UPLIFT) and a send log confirms it was sent.
demo: demo-data
	$(PY) run_report.py --all --month $$(date -d "$$(date +%Y-%m-01) -2 month" +%Y-%m)
	$(PY) -m crm_report.data.demo --clients-dir clients --reports-dir reports --simulate-campaign $$(date -d "$$(date +%Y-%m-01) -2 month" +%Y-%m)
	$(PY) run_report.py --all

# Lint (ruff) and types (mypy) first, then the tests; configured in pyproject.toml (README "Tests").
test: setup
	$(PY) -m ruff check crm_report tests bench notebooks scripts run_report.py
	$(PY) -m mypy
	$(PY) -m pytest -q -n 2 --dist loadfile

bench: setup
	$(PY) bench/end_to_end.py

clean:
	rm -rf reports/*/ .pytest_cache
