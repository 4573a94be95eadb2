# The README's two commands: `make run` serves the shop, `make test` runs every test.
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet

.PHONY: run test lint format catalogues bench bench-ws bench-images bench-files clean

$(PY):
	@python=$$(scripts/find-python) && echo "creating $(VENV) with $$python" && "$$python" -m venv $(VENV)
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 13))' || \
		{ echo "$(VENV) is not Python 3.13+: remove it and run make again" >&2; exit 1; }

# Stamps re-install only when the dependencies change.
$(VENV)/.installed: $(PY) setup.cfg pyproject.toml
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: $(PY) setup.cfg pyproject.toml
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) -m shop serve

test: $(VENV)/.installed-test
	$(PY) -m pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Re-extract every message (code, templates, page scripts) into shop/locale/*/messages.po,
# keeping the translations; `make catalogues NEW=pt_BR` starts a new language's catalogue.
catalogues: $(VENV)/.installed
	$(PY) -m shop.i18n.extract $(if $(NEW),--new $(NEW))

bench: $(VENV)/.installed-test
	$(PY) bench/http_load.py

bench-ws: $(VENV)/.installed-test
	$(PY) bench/ws_fanout.py

bench-images: $(VENV)/.installed-test
	$(PY) bench/image_uploads.py

bench-files: $(VENV)/.installed-test
	$(PY) bench/catalogue_files.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
