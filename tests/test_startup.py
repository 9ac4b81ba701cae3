"""Start-up cost: what `run_report.py` and the report kernels import before doing any work.

Each check runs a fresh interpreter, because this test process has long imported everything.
"""
import json
import shutil
import subprocess
import sys

import pytest

from crm_report import execute
from crm_report.data.demo import generate_orders
from crm_report.paths import CLIENTS_DIR, NOTEBOOKS_DIR, PROJECT_ROOT

# Libraries only a report needs. `--list` and `--check-data` must not load them (papermill, nbformat and
# jupytext pull in jsonschema; WeasyPrint loads Pango; together with matplotlib about 3 s of CPU).
REPORT_ONLY = ("papermill", "nbformat", "jupytext", "jsonschema", "weasyprint", "matplotlib")
# Builds a URL grammar at import (4–5 s); jsonschema imports it whenever it is installed (JupyterLab's
# server requires it), so the report must keep it out.
GRAMMAR = "rfc3987_syntax"


def imported_modules(args: list[str]) -> set[str]:
    """Names of the modules `python -X importtime <args>` imported (its exit status must be 0)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True,
                          timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and not line.rstrip().endswith("package")}


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    root = tmp_path_factory.mktemp("clients")
    folder = root / "demo-apparel"
    folder.mkdir()
    for name in ("client.yaml", "logo.svg"):
        shutil.copy(CLIENTS_DIR / "demo-apparel" / name, folder / name)
    (folder / "data").mkdir()
    generate_orders("demo-apparel", "2026-10", scale=0.02).to_parquet(folder / "data" / "orders.parquet")
    return root


def test_list_imports_no_report_library(clients):
    modules = top_level(imported_modules(["run_report.py", "--list", "--clients-dir", str(clients)]))
    assert "crm_report" in modules
    assert not modules & {*REPORT_ONLY, GRAMMAR, "pandas"}, sorted(modules & {*REPORT_ONLY, GRAMMAR, "pandas"})


def test_check_data_imports_no_report_library(clients):
    modules = top_level(imported_modules(["run_report.py", "--client", "demo-apparel", "--check-data",
                                          "--clients-dir", str(clients)]))
    assert "pandas" in modules  # it did load the data
    assert not modules & {*REPORT_ONLY, GRAMMAR}, sorted(modules & {*REPORT_ONLY, GRAMMAR})


def test_notebook_staging_does_not_import_the_url_grammar(tmp_path):
    """What a report does with notebooks in its own process: jupytext → nbformat (validate) → papermill."""
    script = f"""
import json, sys, types
from pathlib import Path
from crm_report import execute
notebook = execute.to_ipynb(Path({str(NOTEBOOKS_DIR / '01_customers.py')!r}), Path({str(tmp_path)!r}) / "nb.ipynb")
import nbformat, papermill
nbformat.validate(nbformat.read(notebook, as_version=4))
execute.check_parameters(notebook, {{"client": "x"}}, "nb")
print(json.dumps(sorted(m for m in sys.modules if isinstance(sys.modules[m], types.ModuleType))))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr
    modules = top_level(set(json.loads(done.stdout)))
    assert {"nbformat", "jsonschema", "papermill", "jupytext"} <= modules
    assert GRAMMAR not in modules and "lark" not in modules


def test_report_kernel_does_not_import_the_url_grammar(tmp_path):
    """The cell fails the run if the kernel, having imported what the report notebooks import, holds it."""
    source = tmp_path / "01_probe.py"
    source.write_text(f"""# %% tags=["parameters"]
client = ""

# %%
import sys, types
from crm_report import charts, exports, privacy, workspace
from crm_report.metrics import acquisition, campaign, clv, customers, lifecycle, products, repurchase, rfm, tiers
loaded = sorted(m for m in ("{GRAMMAR}", "lark") if isinstance(sys.modules.get(m), types.ModuleType))
assert not loaded, loaded
""", encoding="utf-8")
    execute.run_notebooks([source], {"client": "x"}, tmp_path, jobs=1)


def test_report_modules_import_their_heavy_libraries_when_used():
    """papermill, nbformat and jupytext load when notebooks are staged, WeasyPrint when a PDF is written."""
    modules = top_level(imported_modules(["-c", "import crm_report.pipeline, crm_report.batch"]))
    assert not modules & {"papermill", "nbformat", "jupytext", "jsonschema", "weasyprint", GRAMMAR}
