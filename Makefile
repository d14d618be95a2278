# One command sets everything up and does the job: `make serve`, `make test`, `make bench`.
# Each creates .venv/ in the checkout and installs what it needs (Debian packages too).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NPM    := node_modules/.installed
LIGHTHOUSE := tools/lighthouse/node_modules/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test bench lint site system-deps node-deps vendor clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# Debian packages: chromium (browser tests), bubblewrap and libseccomp2 (the grader's sandbox and its seccomp
# filter) and graphviz (dot, for nnbasics.draw).
system-deps: node-deps
	@if command -v apt-get >/dev/null && { [ ! -x /usr/bin/chromium ] || ! command -v bwrap >/dev/null || ! command -v dot >/dev/null || ! ls /usr/lib/*/libseccomp.so.2 /lib/*/libseccomp.so.2 >/dev/null 2>&1; }; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium bubblewrap libseccomp2 graphviz >/dev/null; \
	fi

# node and npm: the site build renders its math with KaTeX, the browser tests run axe-core.
node-deps:
	@if command -v apt-get >/dev/null && ! command -v npm >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; \
	fi

# npm packages of package-lock.json: KaTeX (renders the site's math at build time) and axe-core (browser tests).
$(NPM): package.json package-lock.json | node-deps
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Lighthouse, for `nnbasics bench site` only.
$(LIGHTHOUSE): tools/lighthouse/package.json tools/lighthouse/package-lock.json | node-deps
	cd tools/lighthouse && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The course site at http://127.0.0.1:8000/; --dirty: after the first build, an edited page alone is rebuilt.
serve: $(STAMP) system-deps $(NPM)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dirty --dev-addr 127.0.0.1:8000

# The static site in site/, as deployed: strict, so a broken link or a failing code block stops it.
site: $(STAMP) system-deps $(NPM)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: $(STAMP) system-deps $(NPM) lint
	$(BIN)/python -m pytest -n 2 --durations=30

bench: $(STAMP) system-deps $(NPM) $(LIGHTHOUSE)
	$(BIN)/nnbasics bench

# Refresh the vendored browser assets (KaTeX's CSS and fonts, the version of package.json) from npm; committed.
vendor: $(STAMP)
	$(BIN)/python tools/vendor_assets.py docs

clean:
	rm -rf $(VENV) site .cache .pytest_cache .ruff_cache node_modules tools/lighthouse/node_modules
