"""Notebook selection and parameter checks (papermill only warns about unknown parameters)."""
import pytest

from crm_report import execute
from crm_report.config import ClientConfig
from crm_report.paths import NOTEBOOKS_DIR


def config(folder):
    return ClientConfig(client_id="acme", display_name="Acme", folder=folder, source={"path": "o.parquet"})


def test_default_plan_and_client_override(tmp_path):
    defaults = execute.notebook_plan(config(tmp_path))
    assert [p.name for p in defaults] == ["01_customers.py", "02_segments.py"]
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "02_segments.ipynb").write_text("{}", encoding="utf-8")
    plan = execute.notebook_plan(config(tmp_path))
    assert plan[0] == NOTEBOOKS_DIR / "01_customers.py" and plan[1] == tmp_path / "notebooks" / "02_segments.ipynb"


@pytest.mark.parametrize("source", sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py")), ids=lambda p: p.name)
def test_notebooks_declare_exactly_the_pipeline_parameters(tmp_path, source):
    notebook = execute.to_ipynb(source, tmp_path / "nb.ipynb")
    execute.check_parameters(notebook, {"client": "x", "month": "2026-10", "report_dir": "/tmp/x"}, "nb")
    with pytest.raises(execute.NotebookError, match=r"unknown parameter\(s\) \['perod'\]"):
        execute.check_parameters(notebook, {"client": "x", "perod": "2026-10"}, "nb")


def test_notebooks_are_thin(tmp_path):
    """No function or class definitions in notebooks: logic lives in the library."""
    for source in NOTEBOOKS_DIR.glob("*.py"):
        code = source.read_text(encoding="utf-8")
        assert "\ndef " not in code and "\nclass " not in code and "lambda" not in code, source.name


def test_kernelspec_pins_this_interpreter(tmp_path):
    import json
    import sys

    folder = execute.install_kernelspec(tmp_path)
    spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    assert spec["argv"][0] == sys.executable and spec["env"] == {"MPLBACKEND": "agg"}
