"""Issue 12, findings 9 and 10: a run killed while publishing, leftovers, and two runs of one client-month."""
import os

import pytest

from crm_report import pipeline


def _report(folder, text):
    folder.mkdir(parents=True)
    (folder / "report.pdf").write_text(text, encoding="utf-8")
    return folder


def test_a_run_killed_between_the_two_renames_is_restored_by_the_next_run(tmp_path):
    """publish renames the old report to .<month>-previous-<pid>, then the new one into place: killed in
    between, the month had no report and the old one stayed hidden. The next run moves it back."""
    final = tmp_path / "acme" / "2026-10"
    _report(tmp_path / "acme" / ".2026-10-previous-4242", "old report")
    pipeline.recover(final)
    assert (final / "report.pdf").read_text(encoding="utf-8") == "old report"
    assert not list(final.parent.glob(".2026-10-previous-*"))


def test_leftovers_of_killed_runs_are_removed_and_the_published_report_kept(tmp_path):
    final = _report(tmp_path / "acme" / "2026-10", "published")
    _report(tmp_path / "acme" / ".2026-10-previous-77", "older")
    _report(tmp_path / "acme" / ".2026-10-staging-abc", "half done")
    other_month = _report(tmp_path / "acme" / ".2026-09-staging-xyz", "another month's run")
    pipeline.recover(final)
    assert (final / "report.pdf").read_text(encoding="utf-8") == "published"
    assert sorted(p.name for p in final.parent.iterdir()) == [".2026-09-staging-xyz", "2026-10"]
    assert other_month.exists()  # only this month's leftovers: another month may be running


def test_a_second_run_of_the_same_client_month_is_refused_while_the_first_holds_the_lock(tmp_path):
    final = tmp_path / "acme" / "2026-10"
    final.parent.mkdir(parents=True)
    with pipeline.run_lock(final):
        with pytest.raises(pipeline.RunInProgress, match="another run of acme 2026-10 is in progress"):
            with pipeline.run_lock(final):
                pass
        with pipeline.run_lock(tmp_path / "acme" / "2026-09"):  # another month is free
            pass
    with pipeline.run_lock(final):  # released when the first run ends
        pass
    assert os.path.exists(final.with_name(".2026-10.lock"))


def test_a_batch_survives_a_worker_that_dies():
    """Issue 12, finding 8: `--processes 2` with one worker killed gave a BrokenProcessPool traceback, no summary
    and none of the reports. Every client now gets its outcome, in order, and the others their reports."""
    from pathlib import Path

    from crm_report import batch
    from tests import batch_runners
    clients = ["a", "killer", "b", "c", "d"]
    outcomes = batch.run_many(clients, "2026-10", clients_dir=Path("/nowhere"), reports_dir=Path("/r"),
                              processes=2, runner=batch_runners.killer)
    assert [o.client for o in outcomes] == clients
    assert [o.ok for o in outcomes] == [True, False, True, True, True]
    assert "died" in outcomes[1].error
