"""survey.report.kernel: the reset between two notebooks in a reused kernel, tested in a real
kernel started the way the runner starts it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from survey.report import kernel, runner


def _run(km, code: str) -> dict:
    """Execute *code* in the kernel (a client of its own, as the runner's); the value of its
    last line, JSON-decoded."""
    from jupyter_core.utils import run_sync

    out: list = []
    kc = km.client()
    kc.start_channels()

    def hook(msg):
        if msg["msg_type"] == "execute_result":
            out.append(msg["content"]["data"]["text/plain"])

    try:
        run_sync(kc.wait_for_ready)(timeout=60)
        reply = run_sync(kc.execute_interactive)(code, timeout=60, output_hook=hook)
    finally:
        kc.stop_channels()
    assert reply["content"]["status"] == "ok", reply["content"]
    return json.loads(eval(out[-1])) if out else None  # text/plain of a str is its repr


@pytest.fixture(scope="module")
def km():
    """A kernel started as the runner starts its kernels."""
    from jupyter_core.utils import run_sync

    km = runner._kernel_manager_class()(kernel_name=runner.KERNEL_NAME)
    run_sync(km.start_kernel)()
    try:
        yield km
    finally:
        runner._shutdown_kernel(km)


def test_fresh_namespace_clears_variables_and_moves_to_the_folder(km, tmp_path):
    _run(km, "x = 41\nimport numpy as np\ny = np.arange(3)")
    kernel.reset_kernel(km, tmp_path, full_collect=True)
    got = _run(km, "import json, os, gc\n"
                   "json.dumps({'x': 'x' in globals(), 'y': 'y' in globals(), 'cwd': os.getcwd(),"
                   " 'frozen': gc.get_freeze_count(), 'collect': gc.collect.__module__})")
    assert got["x"] is False and got["y"] is False
    assert Path(got["cwd"]) == tmp_path
    assert got["frozen"] > 0
    assert got["collect"] == "gc"  # the real gc.collect is back after the reset


def test_fresh_namespace_walks_the_whole_heap_once_per_report_not_twice_per_notebook(km, tmp_path):
    """%reset -f collects generation 2 (everything) twice; the runner's reset collects it once
    at the start of a report and otherwise only what is not frozen."""
    _run(km, "import gc\n_seen = []\n"
             "def _cb(phase, info, _seen=_seen):\n"
             "    if phase == 'stop' and info['generation'] == 2: _seen.append(1)\n"
             "gc.callbacks.append(_cb)\n"
             "__builtins__.__dict__['_survey_test_seen'] = _seen")
    try:
        _run(km, "get_ipython().run_line_magic('reset', '-f')")
        reset_magic = _run(km, "import json; json.dumps(len(_survey_test_seen))")
        _run(km, "_survey_test_seen.clear()")
        kernel.reset_kernel(km, tmp_path, full_collect=False)
        ours = _run(km, "import json; json.dumps(len(_survey_test_seen))")
    finally:
        _run(km, "import gc; gc.callbacks.clear(); del __builtins__.__dict__['_survey_test_seen']")
    assert reset_magic >= 2
    assert ours == 1  # one collection, and of the unfrozen objects only


def test_cyclic_garbage_frozen_in_an_earlier_notebook_is_freed_at_the_next_report(km, tmp_path):
    # a cycle kept alive by a module-level cache survives a reset (and is frozen) ...
    _run(km, "import sys, types, weakref\n"
             "class Node: pass\n"
             "a = Node(); a.me = a\n"
             "sys.modules['_survey_test_cache'] = m = types.ModuleType('_survey_test_cache')\n"
             "m.held = a; m.ref = weakref.ref(a)")
    kernel.reset_kernel(km, tmp_path, full_collect=False)
    # ... then the cache lets go of it: an ordinary reset does not walk the frozen heap,
    _run(km, "import sys; sys.modules['_survey_test_cache'].held = None")
    kernel.reset_kernel(km, tmp_path, full_collect=False)
    alive = _run(km, "import sys, json; json.dumps(sys.modules['_survey_test_cache'].ref() is not None)")
    # the next report's reset does
    kernel.reset_kernel(km, tmp_path, full_collect=True)
    freed = _run(km, "import sys, json; json.dumps(sys.modules.pop('_survey_test_cache').ref() is None)")
    assert alive is True and freed is True


def test_fresh_namespace_outside_ipython_only_collects():
    import gc

    kernel.fresh_namespace(None, full_collect=True)
    try:
        assert gc.get_freeze_count() > 0
        assert gc.collect.__module__ == "gc"
    finally:
        gc.unfreeze()
