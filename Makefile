# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# On these machines this exact pin installs a CPU build from local disk in seconds;
# the package itself only asks for torch>=2.4.
TORCH_PIN ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: demo test install reports bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH_PIN)"
	$(PIP) install --quiet -e ".[measure,hf,test]"
	touch $(STAMP)

install: $(STAMP)

# `check` exits 1 when a policy in force is crossed (Llama 3.1 405B crosses the EU AI Act's 1e25):
# that is the demo's point, so only exit 2 (could not judge) fails the target.
demo: $(STAMP)
	mkdir -p reports
	$(VENV)/bin/flopaudit check examples/llama-3.1-405b.yaml --report reports/demo.html; \
	  code=$$?; [ $$code -le 1 ] || exit $$code
	@echo "HTML report written to reports/demo.html"

test: $(STAMP)
	$(PY) -m pytest

# Regenerates every sample report in reports/ from examples/ (a test fails when they are stale).
reports: $(STAMP)
	$(PY) -m flopaudit.render.samples

bench: $(STAMP)
	$(PY) bench/startup.py
	$(PY) bench/stages.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
