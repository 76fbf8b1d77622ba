# Reenact: the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
VENV45 ?= .venv-bpy45
PY45   := $(VENV45)/bin/python

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' blender_manifest.toml)
EXT_ZIP := dist/reenact-$(VERSION)-linux_x64.zip
WHEEL_PLATFORMS := --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64

.PHONY: env env45 demo test test-fast extension wheels bench doctor clean

# Main environment: bpy 5.0.1, runtime stack, training stack (torch), test tools, reference.
$(VENV)/.stamp: requirements/*.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip==25.2 setuptools==80.9.0 wheel==0.45.1
	$(PIP) install -q -r requirements/dev.txt -c requirements/constraints.txt
	$(PIP) install -q --no-deps -r requirements/reference.txt
	$(PIP) install -q --no-deps -r requirements/anchor.txt
	$(PIP) install -q --no-deps -e .
	touch $@

env: $(VENV)/.stamp

# Second environment for the Blender 4.5 LTS extension test (bpy 4.5 wheels are cp311 too).
$(VENV45)/.stamp: requirements/bpy45.txt
	$(PYTHON) -m venv $(VENV45)
	$(VENV45)/bin/python -m pip install -q --upgrade pip==25.2
	$(VENV45)/bin/python -m pip install -q -r requirements/bpy45.txt
	touch $@

env45: $(VENV45)/.stamp

# the extension's runtime wheels: downloaded once (again when their list changes), not on every build
wheels/.stamp: requirements/extension-wheels.txt | $(VENV)/.stamp
	mkdir -p wheels
	$(PIP) download -q --no-deps --only-binary=:all: --python-version 3.11 $(WHEEL_PLATFORMS) \
	    -d wheels -r requirements/extension-wheels.txt
	touch $@

wheels: wheels/.stamp

$(EXT_ZIP): $(VENV)/.stamp wheels/.stamp $(shell git ls-files 2>/dev/null)
	mkdir -p dist
	$(PY) tools/build_extension.py --output $(EXT_ZIP)

extension: $(EXT_ZIP)

demo: env
	$(VENV)/bin/reenact demo --out out

test: env env45 wheels
	REENACT_PY45=$(abspath $(PY45)) $(PY) -m pytest -q

test-fast: env
	$(PY) -m pytest -q -m "not blender and not slow"

bench: env
	$(PY) -m reenact.bench.run

doctor: env
	$(VENV)/bin/reenact doctor

clean:
	rm -rf dist out build *.egg-info .pytest_cache
