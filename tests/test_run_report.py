"""Issue 12, finding 12 and the error hierarchy: the CLI prints an expected error as one line naming the file
or option and exits non-zero; a bug keeps its traceback."""
from pathlib import Path

import pandas as pd
import pytest

import run_report
from crm_report import batch, pipeline
from crm_report.charts import FontMissingError
from crm_report.config import ConfigError
from crm_report.data.load import DataError
from crm_report.errors import ReportError
from crm_report.execute import NotebookError
from crm_report.render import RenderError

MONTH = "2026-10"
ORDERS = "order_id,customer_id,order_date,amount\nA1,c1,2026-10-02,100\nA2,c2,2026-10-03,200\n"


@pytest.fixture
def dirs(tmp_path):
    """A clients folder with one CSV client 'acme', and an empty reports folder."""
    folder = tmp_path / "clients" / "acme"
    folder.mkdir(parents=True)
    (folder / "client.yaml").write_text("display_name: Acme\nlocale: en\nsource: {path: orders.csv}\n",
                                        encoding="utf-8")
    (folder / "orders.csv").write_text(ORDERS, encoding="utf-8")
    return ["--clients-dir", str(tmp_path / "clients"), "--reports-dir", str(tmp_path / "reports")]


def _unreadable(monkeypatch, target: Path) -> None:
    """`target` cannot be opened, as for a consultant without the permission (tests run as root, who may)."""
    real_open = Path.open

    def guarded_open(self, *args, **kwargs):
        if self.resolve() == target.resolve():
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)
    monkeypatch.setattr(Path, "open", guarded_open)
    monkeypatch.setattr(Path, "read_bytes", lambda self: guarded_open(self, "rb").read())


@pytest.mark.parametrize("error", [ConfigError, DataError, NotebookError, RenderError, pipeline.RunInProgress,
                                   FontMissingError])
def test_expected_errors_share_one_base_and_keep_their_own(error):
    assert issubclass(error, ReportError)
    assert issubclass(error, ValueError if error in (ConfigError, DataError) else RuntimeError)


def test_check_data_names_an_unreadable_order_file(dirs, monkeypatch, capsys):
    orders = Path(dirs[1]) / "acme" / "orders.csv"
    _unreadable(monkeypatch, orders)
    assert run_report.main(["--client", "acme", "--check-data", *dirs]) == 1
    out = capsys.readouterr().out
    assert f"{orders}: cannot read the file (Permission denied)" in out


def test_check_data_names_an_unreadable_client_yaml(dirs, monkeypatch, capsys):
    config = Path(dirs[1]) / "acme" / "client.yaml"
    _unreadable(monkeypatch, config)
    assert run_report.main(["--client", "acme", "--check-data", *dirs]) == 1
    assert f"acme: {config}: cannot read the file (Permission denied)" in capsys.readouterr().out


def test_check_data_without_clients_says_so(tmp_path, capsys):
    assert run_report.main(["--all", "--check-data", "--clients-dir", str(tmp_path)]) == 2
    assert f"no clients in {tmp_path}" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--month", ""], "--month: month must look like 2026-10"),
    (["--month", "10/2026"], "--month: month must look like 2026-10"),
    (["--jobs", "0"], "argument --jobs: must be a whole number from 1"),
    (["--processes", "-2"], "argument --processes: must be a whole number from 1"),
    (["--jobs", "two"], "argument --jobs: must be a whole number from 1"),
])
def test_odd_arguments_get_one_line_naming_the_option(dirs, capsys, args, message):
    try:
        code = run_report.main(["--client", "acme", *args, *dirs])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_verbose_never_prints_none_for_a_config_error(dirs, capsys):
    assert run_report.main(["--client", "no-such-client", "--month", MONTH, "-v", *dirs]) == 1
    captured = capsys.readouterr()
    assert "FAIL  no-such-client" in captured.out and "no client 'no-such-client'" in captured.out
    assert "None" not in captured.err


def _raising(error):
    def run_report_stub(client, month, **kwargs):
        raise error
    return run_report_stub


def test_an_expected_error_is_one_line_without_a_traceback(dirs, monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "run_report", _raising(pipeline.RunInProgress("another run of acme 2026-10")))
    assert run_report.main(["--client", "acme", "--month", MONTH, *dirs]) == 1
    captured = capsys.readouterr()
    assert f"FAIL  acme                     {MONTH}  another run of acme 2026-10\n" in captured.out
    assert "Traceback" not in captured.out + captured.err


def test_a_bug_keeps_its_traceback(dirs, monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "run_report", _raising(KeyError("segment")))
    assert run_report.main(["--client", "acme", "--month", MONTH, *dirs]) == 1
    captured = capsys.readouterr()
    assert "FAIL  acme" in captured.out and "KeyError: 'segment'" in captured.out
    assert "Traceback (most recent call last)" in captured.err and "run_report_stub" in captured.err


def test_the_outcome_tells_an_expected_error_from_a_bug(dirs, monkeypatch):
    clients, reports = Path(dirs[1]), Path(dirs[3])
    monkeypatch.setattr(pipeline, "run_report", _raising(DataError("orders.csv row 2: no date")))
    expected = batch.run_one("acme", MONTH, clients, reports)
    assert expected.error == "orders.csv row 2: no date" and not expected.bug
    monkeypatch.setattr(pipeline, "run_report", _raising(ZeroDivisionError("division by zero")))
    bug = batch.run_one("acme", MONTH, clients, reports)
    assert bug.error == "ZeroDivisionError: division by zero" and bug.bug and "Traceback" in bug.detail


def test_an_expected_error_outside_a_report_is_one_line(dirs, monkeypatch, capsys):
    def check(clients, clients_dir):
        raise DataError("orders.csv: cannot read the file (Input/output error)")
    monkeypatch.setattr(run_report, "_check_data", check)
    assert run_report.main(["--client", "acme", "--check-data", *dirs]) == 1
    assert capsys.readouterr().err == "error: orders.csv: cannot read the file (Input/output error)\n"


@pytest.mark.parametrize("key, yaml", [
    ("source.path", "source: {path: data/orders.csv}"),
    ("brand.logo", "source: {path: orders.csv}\nbrand: {logo: data/orders.csv}"),
])
def test_a_link_that_leads_to_itself_is_a_config_error_even_for_list(dirs, capsys, key, yaml):
    """`ln -s orders.csv data/orders.csv` made pathlib raise RuntimeError('Symlink loop'): a traceback from
    `--list` and `--check-data`, and every other client unlisted."""
    folder = Path(dirs[1]) / "acme"
    (folder / "data").mkdir()
    (folder / "data" / "orders.csv").symlink_to("orders.csv")
    (folder / "client.yaml").write_text(f"display_name: Acme\n{yaml}\n", encoding="utf-8")
    assert run_report.main(["--list", *dirs]) == 1
    assert f"acme                     INVALID: {folder / 'client.yaml'}: {key}: 'data/orders.csv' is a link that " \
           "leads back to itself" in capsys.readouterr().out
    assert run_report.main(["--client", "acme", "--check-data", *dirs]) == 1


def test_check_data_names_a_missing_sqlite_file_and_creates_none(dirs, capsys):
    """SQLite creates a database file that is not there: --check-data (which writes nothing) left an empty
    orders.db in the client's folder and said "no table 'orders'"."""
    folder = Path(dirs[1]) / "acme"
    (folder / "client.yaml").write_text(
        "display_name: Acme\nlocale: en\nsource: {url: 'sqlite:///orders.db', table: orders}\n", encoding="utf-8")
    assert run_report.main(["--client", "acme", "--check-data", *dirs]) == 1
    assert f"database file not found: {folder.resolve() / 'orders.db'} (source.url in {folder / 'client.yaml'})" \
           in capsys.readouterr().out
    assert not (folder / "orders.db").exists()


def test_check_data_reports_a_config_error_found_while_loading_like_a_data_error(dirs, capsys):
    folder = Path(dirs[1]) / "acme"
    (folder / "client.yaml").write_text(
        "display_name: Acme\nlocale: en\nsource: {url: 'sqlite:////etc/passwd', table: x}\n", encoding="utf-8")
    assert run_report.main(["--client", "acme", "--check-data", *dirs]) == 1
    out = capsys.readouterr().out
    assert "STOP: the data cannot be used:" in out and "path '/etc/passwd' leaves the client's folder" in out


def test_a_reports_folder_that_cannot_be_made_is_named_without_a_traceback(dirs, tmp_path, capsys):
    """--reports-dir naming a file (or a folder without write permission) gave NotADirectoryError."""
    blocked = tmp_path / "reports.txt"
    blocked.write_text("not a folder", encoding="utf-8")
    assert run_report.main(["--client", "acme", "--month", MONTH, *dirs[:2], "--reports-dir", str(blocked)]) == 1
    captured = capsys.readouterr()
    assert f"FAIL  acme                     {MONTH}  cannot make the report folder {blocked / 'acme'}: Not a " \
           "directory" in captured.out
    assert "Traceback" not in captured.err


def test_ctrl_c_ends_with_one_line(dirs, monkeypatch, capsys):
    def check(clients, clients_dir):
        raise KeyboardInterrupt
    monkeypatch.setattr(run_report, "_check_data", check)
    assert run_report.main(["--client", "acme", "--check-data", *dirs]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_a_bad_invitation_list_stops_the_run_before_the_notebooks_with_one_line(dirs, capsys):
    """Issue 12: an invitation list that cannot be used raised a plain ValueError inside 02_segments (a
    notebook traceback, after the other notebook's work). The prepare step reads it first: one line naming
    the file and row, exit 1, no notebook run."""
    folder = Path(dirs[1]) / "acme"
    (folder / "vip.csv").write_text("name,customer_id\nA,c1\nB\n", encoding="utf-8")
    (folder / "client.yaml").write_text(
        "display_name: Acme\nlocale: en\nsource: {path: orders.csv}\n"
        "member_tiers: [{name: Gold, min_spend_12m: 100}, {name: Black, invitation_list: vip.csv}]\n",
        encoding="utf-8")
    assert run_report.main(["--client", "acme", "--month", MONTH, *dirs]) == 1
    captured = capsys.readouterr()
    assert f"FAIL  acme                     {MONTH}  {folder / 'vip.csv'} row 3: no customer_id (column 2) in 'B'" \
        in captured.out
    assert "Traceback" not in captured.out + captured.err
    failed = Path(dirs[3]) / "acme" / f".{MONTH}-failed"
    assert not (failed / "notebooks").exists()  # stopped before any notebook ran


def test_without_month_the_report_month_is_the_last_one_over_in_every_clients_time_zone(dirs, tmp_path, monkeypatch,
                                                                                        capsys):
    """At 07:00 on 1 December in Taipei (2026-11-30 23:00 UTC) November is over for acme (Asia/Taipei, the
    default), not yet for a client in New York: acme alone gets November; both together get October, and a
    note says which month to give for acme (the machine's own date plays no part)."""
    from crm_report import period

    real = period.local_now
    monkeypatch.setattr(period, "local_now", lambda zone, utc=None: real(zone, pd.Timestamp("2026-11-30 23:00")))
    chosen = []

    def run_stub(client, month, **kwargs):
        chosen.append((client, month))
        raise pipeline.RunInProgress("stub")
    monkeypatch.setattr(pipeline, "run_report", run_stub)
    (tmp_path / "clients" / "nyc").mkdir()
    (tmp_path / "clients" / "nyc" / "client.yaml").write_text(
        "display_name: NYC\nlocale: en\ntimezone: America/New_York\nsource: {path: orders.csv}\n", encoding="utf-8")
    assert run_report.main(["--client", "acme", *dirs]) == 1
    assert chosen == [("acme", "2026-11")] and "note:" not in capsys.readouterr().err
    chosen.clear()
    assert run_report.main(["--all", *dirs]) == 1
    assert chosen == [("acme", "2026-10"), ("nyc", "2026-10")]
    assert "note: 2026-10 by default: 2026-11 is not over yet" in capsys.readouterr().err
