# Two commands on a fresh machine with Python >= 3.11 and make:
#   make demo   install into .venv and run iamlogic on examples/
#   make test   install with the test extras and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SARIF_SCHEMA := .cache/sarif-2.1.0.json

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The SARIF 2.1.0 schema, for the test that checks --format sarif against it;
# it ships in an npm package (the schema's own site is not reachable offline).
$(SARIF_SCHEMA):
	mkdir -p .cache/npm
	cd .cache/npm && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null
	tar -xzf .cache/npm/microsoft-jest-sarif-1.0.0-beta.0.tgz -C .cache/npm package/lib/schemas/sarif-2.1.0-rtm.5.json
	cp .cache/npm/package/lib/schemas/sarif-2.1.0-rtm.5.json $@

demo: $(STAMP)
	@bash examples/demo.sh $(BIN)/iamlogic
	@bash examples/serve_demo.sh $(BIN)/iamlogic $(BIN)/aws

test: $(STAMP) $(SARIF_SCHEMA) bench/peer/node_modules
	$(BIN)/python -m pytest

# The peer simulator is measured side by side; it is installed here only.
bench/peer/node_modules: bench/peer/package.json
	npm install --prefix bench/peer --silent --no-audit --no-fund

bench: $(STAMP) bench/peer/node_modules
	$(BIN)/python bench/parse_bench.py
	$(BIN)/python bench/kernel_bench.py
	$(BIN)/python bench/proofs_bench.py
	$(BIN)/python bench/accounts_bench.py
	$(BIN)/python bench/privesc_bench.py
	$(BIN)/python bench/batch_bench.py
	$(BIN)/python bench/ray_bench.py
	$(BIN)/python bench/soundness.py
	$(BIN)/python bench/peer_diff.py --scenarios 20000 --seed 1 --no-repros

clean:
	rm -rf $(VENV) .cache build dist *.egg-info
