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

demo: $(STAMP)
	mkdir -p reports
	-$(VENV)/bin/flopaudit check examples/llama-3.1-405b.yaml --report reports/llama-3.1-405b.html
	@echo "HTML report: reports/llama-3.1-405b.html"

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/startup.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
