"""WeasyPrint rendering: only the report's own files, warnings are errors, templates strict and escaped."""
import json
import os
import select
import signal
import subprocess
import sys
import time

import jinja2
import pytest

from crm_report import pdf, render

CJK_PAGE = """<!DOCTYPE html><html lang="zh-TW"><head><meta charset="utf-8"><style>
body {{ font-family: "Noto Sans CJK TC"; }}</style></head><body><h1>顧客經營月報</h1>
<p>回購客貢獻了 85.2% 的營收。</p>{extra}</body></html>"""


@pytest.fixture(params=["fresh", "warm"])
def renderer(request, monkeypatch):
    """Each render test runs twice: WeasyPrint in a new process (a single report), and forked from a warm
    renderer (`render.PdfServer`, a batch worker's), which must behave the same."""
    if request.param == "fresh":
        yield None
        return
    server = render.PdfServer()
    monkeypatch.setattr(render, "_server", server)
    popen = render.subprocess.Popen

    def no_pdf_process(args, *rest, **kwargs):
        assert pdf.__file__ not in args, "a new WeasyPrint process was started beside the warm renderer"
        return popen(args, *rest, **kwargs)
    monkeypatch.setattr(render.subprocess, "Popen", no_pdf_process)
    yield server
    server.stop()


def write_page(folder, extra=""):
    page = folder / "page.html"
    page.write_text(CJK_PAGE.format(extra=extra), encoding="utf-8")
    return page


def test_cjk_page_renders_and_embeds_the_font(tmp_path, renderer):
    from pypdf import PdfReader

    render.write_pdf(write_page(tmp_path), tmp_path / "out.pdf", root=tmp_path)
    fonts = {str(f["/BaseFont"]) for page in PdfReader(tmp_path / "out.pdf").pages
             for f in page["/Resources"]["/Font"].values()}
    assert any("Noto-Sans-CJK-TC" in name for name in fonts)


def test_harfbuzz_subsetter_is_used_for_cjk_fonts(tmp_path):
    """Without libharfbuzz-subset0 WeasyPrint falls back to fontTools: 10–15 s for one CJK page here. The
    fallback logs a warning ('Using fontTools instead of HarfBuzz-Subset'), and a warning fails the render, so
    a CJK page that renders was subset by HarfBuzz (no timing: a loaded machine must not fail this test)."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    assert harfbuzz_subset is not None, "install Debian's libharfbuzz-subset0 (make setup)"
    assert harfbuzz.hb_version_atleast(4, 1, 0)
    render.write_pdf(write_page(tmp_path), tmp_path / "out.pdf", root=tmp_path)


@pytest.mark.parametrize("extra", [
    '<img src="file:///etc/hostname">',            # a file outside the report folder
    '<img src="../outside.svg">',                  # relative escape from the report folder
    '<img src="http://127.0.0.1:9/logo.png">',     # any network URL
    '<link rel="stylesheet" href="missing.css">',  # a missing file inside the folder
])
def test_fetcher_refuses_anything_but_the_reports_own_files(tmp_path, renderer, extra):
    (tmp_path.parent / "outside.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
    with pytest.raises(render.RenderError, match="may only load its own files"):
        render.write_pdf(write_page(tmp_path, extra), tmp_path / "out.pdf", root=tmp_path)
    assert not (tmp_path / "out.pdf").exists()


def test_own_files_load(tmp_path):
    (tmp_path / "chart.svg").write_text(
        "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect width='10' height='10'/></svg>",
        encoding="utf-8")
    render.write_pdf(write_page(tmp_path, '<img src="chart.svg">'), tmp_path / "out.pdf", root=tmp_path)
    assert (tmp_path / "out.pdf").stat().st_size > 0


def test_weasyprint_warnings_fail_the_render(tmp_path, renderer):
    with pytest.raises(render.RenderError, match="WeasyPrint reported problems"):
        render.write_pdf(write_page(tmp_path, "<p style='colr: red'>x</p>"), tmp_path / "out.pdf", root=tmp_path)


def test_templates_are_strict_and_escaped():
    env = render.make_environment("zh-TW")
    assert env.from_string("{{ name }}").render(name="<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    assert env.from_string("{{ v | change('points') }}").render(v=0.021) == "+2.1 個百分點"


def test_header_words_stay_whole_and_escaped():
    env = render.make_environment("en")
    assert env.from_string("{{ 'Days  since' | words }}").render() == \
        '<span class="word">Days</span> <span class="word">since</span>'
    assert env.from_string("{{ '購買人數' | words }}").render() == '<span class="word">購買人數</span>'
    assert env.from_string("{{ '<b>&' | words }}").render() == '<span class="word">&lt;b&gt;&amp;</span>'


def test_locales_have_the_same_keys_and_only_text_keys():
    """YAML reads an unquoted `yes:` key as True; a key missing in one locale fails only that locale's report."""
    from crm_report import i18n

    def keys(tree, prefix=""):
        if isinstance(tree, dict):
            for key, value in tree.items():
                assert isinstance(key, str), f"{prefix}{key!r} is not text (quote it in the YAML)"
                yield from keys(value, f"{prefix}{key}.")
            yield prefix
        elif isinstance(tree, list):
            for value in tree:
                if isinstance(value, dict):
                    yield from keys({k: None for k in value}, f"{prefix}[]")
    zh, en = set(keys(i18n.strings("zh-TW"))), set(keys(i18n.strings("en")))
    assert zh == en, f"only zh-TW: {sorted(zh - en)}; only en: {sorted(en - zh)}"


def test_a_render_over_the_time_limit_is_stopped_with_a_clear_error(tmp_path, renderer):
    """Issue 12, finding 6: a 100 KB product name gave no PDF after 600 s and the run never ended. WeasyPrint
    now runs in a child process stopped after `render.RENDER_TIMEOUT` seconds (here 2 s; this page would take
    minutes: 2,000 characters of one unbroken table cell took 28 s)."""
    page = write_page(tmp_path, "<table><tr><td>" + "超長商品名稱" * 700 + "</td><td>2</td></tr></table>")
    start = time.perf_counter()
    with pytest.raises(render.RenderError, match=r"page.html: no PDF after 2 s, the render time limit"):
        render.write_pdf(page, tmp_path / "out.pdf", root=tmp_path, timeout=2)
    assert time.perf_counter() - start < 30  # stopped, not minutes: a loaded machine starts the child slowly
    assert not (tmp_path / "out.pdf").exists()
    assert render.RENDER_TIMEOUT == 300


def test_a_crash_of_weasyprint_is_a_render_error_with_its_traceback(tmp_path, renderer):
    page = write_page(tmp_path)
    with pytest.raises(render.RenderError,
                       match=r"(?s)page.html: WeasyPrint failed \(1\):\nTraceback.*FileNotFoundError"):
        render.write_pdf(page, tmp_path / "no-such-folder" / "out.pdf", root=tmp_path)


def test_the_render_process_ends_by_itself_when_nobody_stops_it(tmp_path):
    """The parent stops a slow render; if the parent is killed first (a batch worker out of memory), the child
    still ends: it limits its own CPU time to the time limit (+1 s)."""
    import signal
    import subprocess
    import sys

    from crm_report import pdf
    page = write_page(tmp_path, "<table><tr><td>" + "超長商品名稱" * 700 + "</td><td>2</td></tr></table>")
    done = subprocess.run([sys.executable, "-P", pdf.__file__, str(page), str(tmp_path / "out.pdf"), str(tmp_path),
                           "1"], input=pdf.GO.encode(), capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGXCPU


def test_weasyprint_starts_before_the_html_exists_and_this_process_works_while_it_renders(tmp_path):
    """`PdfProcess` starts WeasyPrint's process first (it imports WeasyPrint meanwhile); the HTML is written
    after; `finish` lets it render and runs `meanwhile` here (the pipeline writes the exports then)."""
    page, done = tmp_path / "page.html", []
    with render.PdfProcess(page, tmp_path / "out.pdf", root=tmp_path) as weasyprint:
        write_page(tmp_path, "<p>每月回購率與營收。</p>" * 400)  # pages of text: seconds of layout
        weasyprint.finish(meanwhile=lambda: done.append(weasyprint.process.poll()))
    assert done == [None]  # `meanwhile` ran while WeasyPrint was still at work
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")


def test_work_done_meanwhile_does_not_count_against_a_finished_render(tmp_path):
    """The time limit is WeasyPrint's: a PDF finished while this process was still busy (the exports of a
    large client) is kept, however long that took."""
    with render.PdfProcess(tmp_path / "page.html", tmp_path / "out.pdf", root=tmp_path, timeout=4) as weasyprint:
        write_page(tmp_path)
        weasyprint.finish(meanwhile=lambda: time.sleep(6))
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")


def test_a_render_abandoned_before_the_html_is_written_leaves_no_process_and_no_pdf(tmp_path):
    """A template error between start and `finish`: leaving the block stops the child; and a child whose
    parent died before saying go ends by itself at the end of its input."""
    import subprocess
    import sys

    from crm_report import pdf
    with pytest.raises(jinja2.UndefinedError), render.PdfProcess(
            tmp_path / "page.html", tmp_path / "out.pdf", root=tmp_path) as weasyprint:
        raise jinja2.UndefinedError("'s' is undefined")
    assert weasyprint.process.returncode is not None
    assert not (tmp_path / "out.pdf").exists()
    done = subprocess.run([sys.executable, "-P", pdf.__file__, str(write_page(tmp_path)), str(tmp_path / "out.pdf"),
                           str(tmp_path), "60"], input=b"", capture_output=True, timeout=60)
    assert done.returncode == pdf.NOT_STARTED
    assert not (tmp_path / "out.pdf").exists()


def test_no_space_after_full_width_punctuation_in_zh_tw():
    """A template's line break after 「。」 showed as a space on the page (「+632 人）。 本月適逢」)."""
    assert render.close_cjk_gaps("<p>回購客（+632 人）。\n    本月適逢雙11</p>") == "<p>回購客（+632 人）。本月適逢雙11</p>"
    assert (render.close_cjk_gaps('<p>撐起。</span>\n <span class="so what">把資源</span></p>')
            == '<p>撐起。</span><span class="so what">把資源</span></p>')
    assert render.close_cjk_gaps("<td>一。</td>\n<td>二</td>") == "<td>一。</td>\n<td>二</td>"  # between cells
    assert render.close_cjk_gaps("<p>Done. Next</p>") == "<p>Done. Next</p>"  # only full-width punctuation


SLOW_PAGE = "<table><tr><td>" + "超長商品名稱" * 700 + "</td><td>2</td></tr></table>"  # minutes to lay out


def test_a_warm_renderer_forks_every_render_and_starts_no_process(tmp_path, monkeypatch):
    """A batch worker's renders come from its warm renderer (WeasyPrint imported once per worker, not once per
    report): no new process is started, each render is a child of the renderer, and a render stopped at its time
    limit or by a failure while the PDF renders leaves the renderer ready for the next report."""
    from pypdf import PdfReader

    monkeypatch.setattr(render, "_server", None)  # put back after the test (the renderer is stopped)
    server = render.start_pdf_server()
    try:
        def no_process(*args, **kwargs):
            raise AssertionError("a new WeasyPrint process was started")
        monkeypatch.setattr(render.subprocess, "Popen", no_process)
        with pytest.raises(render.RenderError, match="no PDF after 2 s"):
            render.write_pdf(write_page(tmp_path, SLOW_PAGE), tmp_path / "slow.pdf", root=tmp_path, timeout=2)
        with pytest.raises(ZeroDivisionError), render.PdfProcess(write_page(tmp_path, SLOW_PAGE),
                                                                 tmp_path / "failed.pdf", root=tmp_path) as job:
            job.finish(meanwhile=lambda: 1 / 0)  # the exports failed while WeasyPrint was laying out

        def fail_after_the_render():  # the exports fail after WeasyPrint has finished and replied
            assert select.select([server.replies.fd], [], [], 120)[0], "no reply from the renderer"
            raise KeyError("exports")
        with pytest.raises(KeyError), render.PdfProcess(write_page(tmp_path), tmp_path / "done.pdf",
                                                        root=tmp_path) as job:
            job.finish(meanwhile=fail_after_the_render)
        for name in ("slow.pdf", "failed.pdf", "done.pdf"):
            assert not (tmp_path / name).exists(), name
        for name in ("first.pdf", "second.pdf"):  # the replies are still each render's own
            render.write_pdf(write_page(tmp_path), tmp_path / name, root=tmp_path)
            assert len(PdfReader(tmp_path / name).pages) == 1
        assert server.alive() and not server.lock.locked()
    finally:
        server.stop()


def test_a_render_starts_its_own_process_when_the_warm_renderer_is_busy_or_gone(tmp_path, monkeypatch):
    """Two reports of one Dask worker may render at once: the second does not wait for the first."""
    server = render.PdfServer()
    monkeypatch.setattr(render, "_server", server)
    started = []
    popen = render.subprocess.Popen
    monkeypatch.setattr(render.subprocess, "Popen", lambda *a, **k: started.append(a) or popen(*a, **k))
    with server.lock:
        render.write_pdf(write_page(tmp_path), tmp_path / "busy.pdf", root=tmp_path)
    server.stop()
    render.write_pdf(write_page(tmp_path), tmp_path / "gone.pdf", root=tmp_path)
    assert len(started) == 2 and (tmp_path / "busy.pdf").exists() and (tmp_path / "gone.pdf").exists()


def test_the_warm_renderer_replies_once_per_render_whenever_a_stop_comes(tmp_path):
    """The protocol itself, with renders that block without working (their output is a FIFO nobody reads): a
    stop while the render runs, a stop in the same write as its job, a stop that comes after the render had
    ended (ignored: the next render's reply is still its own); at the end of its input the renderer stops the
    render and ends, and a render whose renderer is killed dies with it."""
    import psutil

    fifo = tmp_path / "blocks"
    os.mkfifo(fifo)
    (tmp_path / "errors").touch()

    def job(output):
        return json.dumps({"html": str(tmp_path / "none.html"), "pdf": str(tmp_path / "x.pdf"), "root": str(tmp_path),
                           "seconds": 60, "output": str(output), "errors": str(tmp_path / "errors")}) + "\n"

    def start():
        server = subprocess.Popen([sys.executable, "-P", pdf.__file__, pdf.SERVE], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        replies = pdf.Lines(server.stdout.fileno())
        assert replies.next(60) == "ready"
        return server, replies

    def send(server, text):
        server.stdin.write(text.encode())
        server.stdin.flush()

    def blocked_child(server):
        deadline = time.monotonic() + 30
        while not (children := psutil.Process(server.pid).children()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return children[0]

    server, replies = start()
    try:
        send(server, job(fifo))
        blocked_child(server)
        send(server, pdf.STOP + "\n")
        assert replies.next(30) == str(-signal.SIGKILL)
        send(server, job(fifo) + pdf.STOP + "\n")
        assert replies.next(30) == str(-signal.SIGKILL)
        send(server, job(tmp_path / "output"))  # no HTML: the render fails at once
        assert replies.next(60) == "1"
        send(server, pdf.STOP + "\n" + job(fifo))  # the stop came too late for that one
        child = blocked_child(server)
        assert replies.next(1) is None  # the new render was not stopped by it
        server.stdin.close()  # the worker has gone
        assert server.wait(timeout=30) == 0
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    finally:
        server.kill()
        server.wait()
    server, replies = start()
    try:
        send(server, job(fifo))
        child = blocked_child(server)
        server.kill()
        child.wait(timeout=30)  # died with its renderer
    finally:
        server.kill()
        server.wait()


def test_a_warm_renderer_that_never_comes_up_is_stopped_and_renders_start_their_own_process(tmp_path,
                                                                                        monkeypatch):
    server = render.PdfServer()
    server.process.kill()
    server.process.wait()
    server.process = subprocess.Popen(["sleep", "60"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # silent
    server.replies = pdf.Lines(server.process.stdout.fileno())
    monkeypatch.setattr(render, "_server", server)
    monkeypatch.setattr(render, "READY_TIMEOUT", 1.0)
    render.write_pdf(write_page(tmp_path), tmp_path / "out.pdf", root=tmp_path)
    assert (tmp_path / "out.pdf").exists() and not server.alive() and not server.lock.locked()
    server.stop()
