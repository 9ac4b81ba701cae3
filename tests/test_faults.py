"""Issue 12: the fault suite. A run killed (SIGKILL: no clean-up code runs) at each step of the pipeline, a
second run of the same client-month while one is running, and an injection corpus in every client-controlled
text that reaches the report, rendered with a local HTTP server on 127.0.0.1 counting the requests it gets.

One small client ("hostile", demo-apparel's data at scale 0.03 with the corpus in its texts) and one module
fixture, in this order:
1. a published report for the month exists (a stand-in folder: its bytes must survive every kill);
2. a run that holds the lock at the load step: a second run (the CLI) is refused; then it is killed;
3. killed when the first notebook finishes (the kernels are running);
4. killed while WeasyPrint renders the PDF (its child process is running);
5. killed between the two renames of `pipeline.publish`;
6. the next run (in this process) restores, cleans up and publishes the real report: the one render every
   injection assertion reads.
Each killed run is a child process (`python -m tests.test_faults FAULT …`) that dies at its fault point by
SIGKILL: hooks (`progress`, a wrapped `os.replace` / `PdfProcess.finish`) make the fault points exact, with no
timing races. Runs 4 and 5 stand in for the notebooks (and 5 for the render) with the results of run 3, which
is why run 3 is killed only when both notebooks have finished.
"""
from __future__ import annotations

import contextlib
import html.parser
import http.server
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from markupsafe import escape

MONTH = "2026-10"
CLIENT = "hostile"
ROOT = Path(__file__).resolve().parents[1]
OLD_REPORT = b"%PDF-1.7 the report published before the faults\n"


# --- the child: one run of the pipeline that dies at its fault point ----------------------------------------

def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (read from /proc), so the test can check none outlives the killed run."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _die(marker: Path) -> None:
    """SIGKILL this process, after writing the pids of its descendants (kernels, WeasyPrint) to `marker`."""
    marker.write_text(" ".join(map(str, _descendants(os.getpid()))), encoding="utf-8")
    os.kill(os.getpid(), signal.SIGKILL)


def _child(fault: str, clients: Path, reports: Path, seed: Path) -> None:
    from crm_report import execute, pipeline, render

    marker = reports.parent / f"{fault}.pids"
    done: list[str] = []

    def progress(name: str) -> None:
        if fault == "load" and name == "load":  # hold the lock at the load step until the test kills us
            marker.write_text(" ".join(map(str, _descendants(os.getpid()))), encoding="utf-8")
            time.sleep(600)
        if fault == "notebooks" and name != "load":  # when both notebooks have saved their results
            done.append(name)
            if len(done) == len(execute.notebook_plan(pipeline.load_config(CLIENT, clients))):
                _die(marker)

    if fault in ("render", "publish"):  # no kernels: the notebooks' results are those of the run killed after them
        execute.started_kernels = lambda count: contextlib.nullcontext([])
        execute.run_staged = lambda staged, parameters, staging, **kw: shutil.copytree(seed, staging,
                                                                                      dirs_exist_ok=True)
        if fault == "render":  # WeasyPrint's child process is laying out the PDF
            real_finish = render.PdfProcess.finish

            def finish(self, meanwhile=None):
                real_finish(self, meanwhile=lambda: (time.sleep(0.5), _die(marker)))
            render.PdfProcess.finish = finish
        elif fault == "publish":  # the old report has been moved aside, the new one not yet into place
            render.render_report = lambda staging, config, month, **kw: (staging / "report.pdf").write_bytes(b"new")
            real_replace = os.replace

            def replace(source, target):
                real_replace(source, target)
                if Path(source).name == MONTH:
                    _die(marker)
            pipeline.os.replace = replace
    pipeline.run_report(CLIENT, MONTH, clients_dir=clients, reports_dir=reports, progress=progress)
    raise SystemExit(f"the run was not killed at {fault}")


if __name__ == "__main__":
    _child(sys.argv[1], *(Path(a) for a in sys.argv[2:5]))


# --- the test's side -------------------------------------------------------------------------------------

class _Counter(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def _count(self) -> None:
        type(self).requests.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()

    do_GET = do_POST = do_HEAD = _count

    def log_message(self, *args) -> None:
        pass


def _payloads(address: str) -> dict[str, list[str]]:
    """The injection corpus by the client field it is put in. Names are shown cut to 40 characters, so each
    name carries one short attempt; client.yaml's longer texts carry several."""
    short = [f"<img src={address}/img>", f"<iframe src={address}/f>", f"<link href={address}/l rel=stylesheet>",
             f"<style>@import '{address}/i'</style>", f"<a style=background:url({address}/u)>",
             f"<svg><image href={address}/svg /></svg>", "<object data=file:///etc/passwd>",
             "{{ 7*7 }}{% include 'report.html' %}", "{% raw %}{{ t }}{0.__class__}%s", "</td></tr></table><h1>x",
             "<img src=file:///etc/passwd>", f"url({address}/css) @import '{address}/at'", "=HYPERLINK(\"x\")"]
    return {
        "product_name": short,
        "category": short[::-1],
        "channel": short[1::2],
        "store": short[::2],
        "display_name": [f"Acme <script>x</script><link rel=stylesheet href=\"{address}/d\">{{{{ 7*7 }}}}"
                         f"<img src=\"file:///etc/passwd\">"],
        "tier": [f"<b>Gold</b><img src={address}/t>", "<i>Black</i>{% raw %}"],
        "event": [(f"<img src={address}/e>" + "{{1}}")[:40]],  # an event name has at most 40
    }


def _client(root: Path, payloads: dict[str, list[str]]) -> Path:
    """The client "hostile": demo-apparel's orders (scale 0.03) with the corpus in every text the report can
    show, and in client.yaml its name, tier names and an event in the report month."""
    from crm_report.data.demo import generate_orders
    from crm_report.paths import CLIENTS_DIR

    folder = root / "clients" / CLIENT
    (folder / "data").mkdir(parents=True)
    shutil.copy(CLIENTS_DIR / "demo-apparel" / "logo.svg", folder / "logo.svg")
    orders = generate_orders("demo-apparel", MONTH, scale=0.03)
    for column in ("product_name", "category", "channel"):
        names = sorted(orders[column].dropna().unique())
        corpus = payloads[column]
        orders[column] = orders[column].map({n: corpus[i % len(corpus)] for i, n in enumerate(names)})
    orders["store"] = [payloads["store"][i % len(payloads["store"])] for i in range(len(orders))]
    orders.to_parquet(folder / "data" / "orders.parquet", index=False)
    quote = lambda text: json.dumps(text, ensure_ascii=False)  # noqa: E731 (JSON strings are YAML strings)
    (folder / "client.yaml").write_text(
        f"display_name: {quote(payloads['display_name'][0])}\nlocale: en\nbrand: {{logo: logo.svg}}\n"
        "source: {path: data/orders.parquet}\n"
        f"member_tiers: [{{name: {quote(payloads['tier'][0])}, min_spend_12m: 1000}},"
        f" {{name: {quote(payloads['tier'][1])}, min_spend_12m: 5000}}]\n"
        f"events: [{{name: {quote(payloads['event'][0])}, start: {MONTH}-10, end: {MONTH}-12}}]\n",
        encoding="utf-8")
    return folder


def _run_child(fault: str, clients: Path, reports: Path, seed: Path, wait: bool = True) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-m", "tests.test_faults", fault, str(clients), str(reports),
                              str(seed)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if wait:
        out = child.communicate(timeout=300)[0].decode(errors="replace")
        assert child.returncode == -signal.SIGKILL, f"{fault}: exit {child.returncode}\n{out[-3000:]}"
    return child


def _gone(pids: list[int], seconds: float) -> list[int]:
    """The processes of `pids` still alive after up to `seconds` (zombies count as gone)."""
    deadline = time.monotonic() + seconds
    while True:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.append(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _state(reports: Path) -> dict:
    """What a fault left beside the month's report."""
    folder = reports / CLIENT
    final = folder / MONTH
    return {"published": (final / "report.pdf").read_bytes() if (final / "report.pdf").is_file() else None,
            "staging": sorted(p.name for p in folder.glob(f".{MONTH}-staging-*")),
            "previous": sorted(p for p in folder.glob(f".{MONTH}-previous-*")),
            "failed": (folder / f".{MONTH}-failed").exists()}


def _lock_is_free(reports: Path) -> bool:
    from crm_report import pipeline
    try:
        with pipeline.run_lock(reports / CLIENT / MONTH):
            return True
    except pipeline.RunInProgress:
        return False


@pytest.fixture(scope="module")
def faulted(tmp_path_factory):
    import run_report
    from crm_report import pipeline

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    _Counter.requests = []
    root = tmp_path_factory.mktemp("faults")
    payloads = _payloads(address)
    _client(root, payloads)
    clients, reports, seed = root / "clients", root / "reports", root / "seed"
    final = reports / CLIENT / MONTH
    final.mkdir(parents=True)
    (final / "report.pdf").write_bytes(OLD_REPORT)
    after, leftovers, timings = {}, {}, {}
    try:
        start = time.monotonic()  # 2. a run holds the lock at the load step; a second one is refused
        holder = _run_child("load", clients, reports, seed, wait=False)
        marker = root / "load.pids"
        try:
            while not marker.exists() and holder.poll() is None:
                time.sleep(0.1)
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run_report.main(["--client", CLIENT, "--month", MONTH, "--clients-dir", str(clients),
                                        "--reports-dir", str(reports)])
            after["second run"] = (code, out.getvalue(), err.getvalue())
        finally:
            holder.kill()  # the kill at the load step (and no run left sleeping if the above failed)
        holder.communicate(timeout=60)
        leftovers["load"] = _gone([int(p) for p in marker.read_text().split()], 20)
        after["load"] = _state(reports)
        after["load", "lock free"] = _lock_is_free(reports)
        timings["load"] = time.monotonic() - start
        for fault in ("notebooks", "render", "publish"):  # 3-5
            start = time.monotonic()
            _run_child(fault, clients, reports, seed)
            leftovers[fault] = _gone([int(p) for p in (root / f"{fault}.pids").read_text().split()], 60)
            after[fault] = _state(reports)
            after[fault, "lock free"] = _lock_is_free(reports)
            if fault == "notebooks":
                [staging] = (reports / CLIENT).glob(f".{MONTH}-staging-*")
                shutil.copytree(staging, seed)
            timings[fault] = time.monotonic() - start
        with pipeline.run_lock(final):  # 6. what the next run does first, seen on its own
            pipeline.recover(final)
        after["recovered"] = _state(reports)
        start = time.monotonic()
        pipeline.run_report(CLIENT, MONTH, clients_dir=clients, reports_dir=reports)
        timings["next run"] = time.monotonic() - start
        after["next run"] = _state(reports)
        print("fault suite, seconds per run:", {k: round(v, 1) for k, v in timings.items()})
    finally:
        server.shutdown()
    return {"final": final, "after": after, "leftovers": leftovers, "requests": list(_Counter.requests),
            "payloads": payloads, "address": address, "timings": timings, "run_report": run_report}


def test_a_second_run_of_the_month_is_refused_while_one_is_running(faulted):
    code, out, err = faulted["after"]["second run"]
    assert code == 1, out + err
    assert f"another run of {CLIENT} {MONTH} is in progress" in out and "Traceback" not in out + err


@pytest.mark.parametrize("fault", ["load", "notebooks", "render"])
def test_a_run_killed_before_publishing_leaves_the_published_report_as_it_was(faulted, fault):
    state = faulted["after"][fault]
    assert state["published"] == OLD_REPORT
    assert len(state["staging"]) == 1  # its own leftovers: those of the run before were removed when it began
    assert not state["previous"] and not state["failed"]  # SIGKILL: no clean-up code ran
    assert faulted["after"][fault, "lock free"]  # the operating system released the lock


def test_a_run_killed_between_the_publish_renames_is_restored_by_the_next(faulted):
    killed = faulted["after"]["publish"]
    assert killed["published"] is None and len(killed["previous"]) == 1  # the window the fix closes
    assert faulted["after"]["publish", "lock free"]
    recovered = faulted["after"]["recovered"]
    assert recovered["published"] == OLD_REPORT
    assert recovered == {"published": OLD_REPORT, "staging": [], "previous": [], "failed": False}


def test_the_next_run_publishes_and_leaves_nothing_behind(faulted):
    final = faulted["final"]
    published = faulted["after"]["next run"]["published"]
    assert published.startswith(b"%PDF") and published != OLD_REPORT
    assert {k: v for k, v in faulted["after"]["next run"].items() if k != "published"} == {
        "staging": [], "previous": [], "failed": False}
    assert sorted(p.name for p in final.parent.iterdir()) == [f".{MONTH}.lock", MONTH]
    assert not (final / "build" / "private").exists()


@pytest.mark.parametrize("fault", ["load", "notebooks", "render", "publish"])
def test_no_process_of_a_killed_run_outlives_it(faulted, fault):
    """Kernels and the WeasyPrint child end once the run that started them is killed (within 20 s, WeasyPrint
    within 60 s: it finishes its PDF into the dead run's staging folder)."""
    assert faulted["leftovers"][fault] == []


def test_the_injection_corpus_made_no_request(faulted):
    assert faulted["requests"] == []


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.style += data

    def handle_endtag(self, tag):
        self._in_style = False


def test_the_report_html_holds_only_its_own_tags_and_the_corpus_as_text(faulted):
    from crm_report.formatting import short_name

    final = faulted["final"]
    text = (final / "report.html").read_text(encoding="utf-8")
    tags = _Tags()
    tags.feed(text)
    assert not {tag for tag, _ in tags.tags} & {"iframe", "object", "embed", "script", "svg", "image", "style"} - {
        "style"} and [t for t, _ in tags.tags].count("style") == 1  # the template's brand colours
    for tag, attributes in tags.tags:  # text attributes (alt, content) may hold the corpus, escaped
        for key in set(attributes) & {"href", "src", "srcset", "data", "style", "action", "poster", "xlink:href"}:
            assert "127.0.0.1" not in attributes[key] and "file:" not in attributes[key], (tag, attributes)
    assert [a["href"] for t, a in tags.tags if t == "link"] == ["assets/report.css"]
    assert {a["src"].split("/")[0] for t, a in tags.tags if t == "img"} <= {"assets", "build"}
    assert "127.0.0.1" not in tags.style and "@import" not in tags.style
    shown = {field: [p for p in corpus if str(escape(p)) in text or str(escape(short_name(p))) in text]
             for field, corpus in faulted["payloads"].items()}
    assert shown["display_name"] == faulted["payloads"]["display_name"]
    assert shown["tier"] == faulted["payloads"]["tier"]
    assert len(shown["product_name"]) >= 5, shown  # the products the report names, each as written
    assert "{{ 7*7 }}" in text  # template syntax stays text


def test_the_corpus_is_plain_text_in_results_json_and_no_figure_refers_out(faulted):
    final = faulted["final"]
    results = (final / "results.json").read_text(encoding="utf-8")
    written = [p for p in faulted["payloads"]["product_name"] if json.dumps(p, ensure_ascii=False)[1:-1] in results]
    assert len(written) >= 5, written
    for figure in final.rglob("*.svg"):
        content = figure.read_text(encoding="utf-8")
        assert "127.0.0.1" not in content and "file:" not in content, figure

