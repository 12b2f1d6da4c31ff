# Two commands on a fresh machine with Python 3.11+:  `make report`  and  `make test`.
# Each builds .venv on first use (and again whenever pyproject.toml or requirements.lock change).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WAVE   ?= demo
JOBS   ?= 2

.PHONY: all setup test test-slow explore report demo bench clean-venv

all: test

# One progress line per stage (pip itself runs quietly: -q).
$(STAMP): pyproject.toml requirements.lock
	@echo "[1/3] 创建虚拟环境 $(VENV)/ …"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "[2/3] 安装依赖（pyproject.toml，版本锁定于 requirements.lock；首次约 2–3 分钟）…"
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	@echo "[3/3] 注册 Jupyter 内核 survey …"
	@$(BIN)/python -m ipykernel install --sys-prefix --name survey --display-name "Python (survey)" >/dev/null
	@touch $(STAMP)
	@echo "环境就绪：$(VENV)/"

setup: $(STAMP)

## Run the test suite (what .ci/run calls).  Some tests read the demo exports (codebook drafting,
## report runner): they are generated first when absent (about 20 s).
test: $(STAMP)
	@test -f data/demo/demo-2024/questionnaire.yml || $(BIN)/survey demo
	$(BIN)/python -m pytest -q

## Long statistical simulations (coverage of CIs etc.).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

## The property (Hypothesis) tests on fresh random examples, RUNS times (default 1); `make test`
## and CI use fixed examples.  Add a failure found here as an explicit @example or test.
RUNS ?= 1
explore: $(STAMP)
	@test -f data/demo/demo-2024/questionnaire.yml || $(BIN)/survey demo
	@for i in $$(seq $(RUNS)); do SURVEY_HYPOTHESIS=explore $(BIN)/python -m pytest -q -m 'property and not slow' || exit 1; done

## Generate the demo waves if absent, then render the demo report under reports/.
report: $(STAMP)
	$(BIN)/survey report --demo

demo: $(STAMP)
	$(BIN)/survey demo

## Issue #17 figures in one run (ours vs svy/R, national report, fan-out, replicates);
## `make bench QUICK=1` for a smoke run with small sizes.
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(if $(QUICK),--quick,)

clean-venv:
	rm -rf $(VENV)
