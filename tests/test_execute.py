"""Running notebooks (crm_report.execute): each kernel ends with its notebook."""
import json
import time

from crm_report import execute
from crm_report.kernels import notebook_imports


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return any(line.startswith("State:") and "Z" in line for line in status)
    except FileNotFoundError:
        return True


def test_a_kernel_is_shut_down_as_soon_as_its_notebook_ends(tmp_path):
    """Issue 13: at 10M lines a finished notebook's kernel kept 4.4 GB until the other notebook ended. Here the
    second notebook waits (up to 60 s) for the first one's kernel to be gone, and fails if it never goes."""
    pid_file = tmp_path / "first.pid"
    (tmp_path / "01_first.py").write_text(f"""# %% tags=["parameters"]
client = ""

# %%
import os, pathlib
pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))
""", encoding="utf-8")
    (tmp_path / "02_second.py").write_text(f"""# %% tags=["parameters"]
client = ""

# %%
import pathlib, time
from tests.test_execute import _gone
path = pathlib.Path({str(pid_file)!r})
deadline = time.monotonic() + 60
while not (path.exists() and path.read_text() and _gone(int(path.read_text()))):
    assert time.monotonic() < deadline, "the first notebook's kernel is still running"
    time.sleep(0.2)
""", encoding="utf-8")
    sources = [tmp_path / "01_first.py", tmp_path / "02_second.py"]
    start = time.monotonic()
    with execute.started_kernels(2) as kernels:
        execute.run_notebooks(sources, {"client": "x"}, tmp_path, jobs=2, kernels=kernels)
        assert not any(kernel.has_kernel for kernel in kernels)
    assert time.monotonic() - start < 60


def test_a_new_kernel_imports_the_notebooks_modules_before_any_notebook_runs(tmp_path):
    """Issue 13: a new kernel imports what the notebooks import while the data loads (about 3 s of each
    notebook's first cell). The notebook then finds the modules imported (the notebook below waits up to
    60 s for them, as it could run before the kernel is warm), and nothing else in its namespace."""
    modules = [name for name in notebook_imports() if name.startswith("crm_report.metrics")]
    assert "crm_report.metrics.clv" in modules
    (tmp_path / "01_look.py").write_text(f"""# %% tags=["parameters"]
client = ""

# %%
import json, pathlib, sys, time
deadline = time.monotonic() + 60
while not all(name in sys.modules for name in {modules!r}):
    assert time.monotonic() < deadline, "the kernel never imported the notebooks' modules"
    time.sleep(0.2)
names = sorted(name for name in dir() if not name.startswith("_"))
pathlib.Path({str(tmp_path / "names.json")!r}).write_text(json.dumps(names))
""", encoding="utf-8")
    with execute.started_kernels(1) as kernels:
        execute.run_notebooks([tmp_path / "01_look.py"], {"client": "x"}, tmp_path, jobs=1, kernels=kernels)
    names = json.loads((tmp_path / "names.json").read_text())
    assert not {"preload", "kernels", "crm_report"} & set(names)
