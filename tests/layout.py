"""Layout checks on a rendered report, read from WeasyPrint's own layout (no PDF parsing), and on charts.

`render(folder)` lays out `folder/report.html` the way `render.write_pdf` does; each check takes the
resulting document and returns the problems it sees as plain sentences ("page 15: …"), an empty list when
there are none. Positions are CSS pixels (1/96 in) from the page's top-left corner. `chart_problems(ax)`
does the same for a chart as `crm_report.charts` draws it: a title, units on every axis that measures
something, and no text cut off at the figure's edge.

Run on a built report to see every problem at once:

    python -m tests.layout reports/demo-supplements/2026-11
"""
from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from matplotlib.axis import Axis
from matplotlib.text import Text
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from crm_report.pdf import _report_fetcher  # the PDF's own fetcher: only the report's files

TOLERANCE = 0.5  # px: rounding in the layout, never a visible overflow
MAX_EMPTY = 0.5  # share of a page's content box left blank, unless a chapter ends on that page
# A header may wrap at a space, after a closing bracket or list mark, or before an opening bracket.
BREAK_AFTER = set("）)」』、，,。：:；;／/")
BREAK_BEFORE = set("（(「『")


@dataclass(frozen=True)
class Placed:
    """A box with its ancestors (innermost last) and the page it is on (0-based)."""

    box: boxes.Box
    ancestors: tuple[boxes.Box, ...]
    page: int


def render(folder: Path):
    """The laid-out document of `folder/report.html` (same fetcher as the PDF: only the report's own files)."""
    folder = Path(folder)
    return HTML(filename=str(folder / "report.html"), base_url=str(folder),
                url_fetcher=_report_fetcher(folder)).render()


def walk(document) -> Iterator[Placed]:
    """Every box of every page's content (the running headers and footers are not content)."""
    for number, page in enumerate(document.pages):
        for root in page._page_box.children:
            if not isinstance(root, boxes.MarginBox):
                yield from _walk(root, (page._page_box,), number)


def _walk(box: boxes.Box, ancestors: tuple[boxes.Box, ...], page: int) -> Iterator[Placed]:
    yield Placed(box, ancestors, page)
    for child in getattr(box, "children", ()):
        yield from _walk(child, (*ancestors, box), page)


def text_outside_page(document) -> list[str]:
    """Text or images past the page's content box, and running headers or footers past the page edge: one
    problem per page and area, with the first few offenders."""
    problems = []
    for number, page in enumerate(document.pages):
        page_box = page._page_box
        for root in page_box.children:
            margin = isinstance(root, boxes.MarginBox)
            left, top, right, bottom = (0, 0, page_box.margin_width(), page_box.margin_height()) if margin \
                else _content_rect(page_box)
            outside = []
            for placed in _walk(root, (page_box,), number):
                box = placed.box
                x0, y0 = box.position_x, box.position_y
                if isinstance(box, boxes.TextBox) and box.text.strip() or isinstance(box, boxes.ReplacedBox):
                    x1, y1 = x0 + box.margin_width(), y0 + box.margin_height()
                    if x0 < left - TOLERANCE or x1 > right + TOLERANCE or y0 < top - TOLERANCE or \
                            isinstance(box, boxes.ReplacedBox) and y1 > bottom + TOLERANCE:
                        outside.append(f"{_describe(box)} at x {x0:.0f}–{x1:.0f}, y {y0:.0f}–{y1:.0f}")
                elif isinstance(box, boxes.LineBox) and y0 + box.height > bottom + TOLERANCE:
                    # a line's own height, not its glyphs' ascent and descent, must end inside the box
                    outside.append(f"line {_line_text(box).strip()[:30]!r} ending at y {y0 + box.height:.0f}")
            if outside:
                where = f"the page edge ({root.at_keyword})" if margin else "the content box"
                problems.append(f"page {number + 1}: {len(outside)} boxes past {where} "
                                f"x {left:.0f}–{right:.0f}, y {top:.0f}–{bottom:.0f}: " + "; ".join(outside[:3]))
    return problems


def wide_tables(document) -> list[str]:
    """Tables wider than the block that holds them (the text block, or a half-width column)."""
    problems = []
    for placed in walk(document):
        if not isinstance(placed.box, boxes.TableBox):
            continue
        holder = next(b for b in reversed(placed.ancestors) if not isinstance(b, boxes.TableBox)
                      and not _is_table_wrapper(b))
        table, left = placed.box, holder.content_box_x()
        right = left + holder.width
        x0, x1 = table.border_box_x(), table.border_box_x() + table.border_width()
        if x0 < left - TOLERANCE or x1 > right + TOLERANCE:
            problems.append(f"page {placed.page + 1}: table {_table_name(table)!r} is {table.border_width():.0f}px "
                            f"wide, {x1 - right:.0f}px past its {holder.width:.0f}px block")
    return problems


def broken_headers(document) -> list[str]:
    """Table header cells whose text wraps inside a word: between two CJK characters (購買人/數), after a
    hyphen (E-/mail), or through a hyphenation WeasyPrint added."""
    problems = []
    for placed in walk(document):
        cell = placed.box
        if not (isinstance(cell, boxes.TableCellBox) and cell.element_tag == "th"):
            continue
        lines = [text for line in cell.descendants() if isinstance(line, boxes.LineBox)
                 if (text := _line_text(line).strip())]
        if len(lines) < 2:
            continue
        source = " ".join("".join(cell.element.itertext()).split())
        for before, after in _breaks_inside_words(source, lines):
            problems.append(f"page {placed.page + 1}: header {source!r} breaks inside a word ({before}/{after})")
    return problems


def half_empty_pages(document, max_empty: float = MAX_EMPTY) -> list[str]:
    """Pages more than `max_empty` blank below their last line, where no chapter (`section.chapter`) ends.

    The cover is laid out on its own by design and is not checked."""
    chapters_on_page: list[set[str]] = [set() for _ in document.pages]
    bottoms = [0.0 for _ in document.pages]
    for placed in walk(document):
        box = placed.box
        if box.element_tag == "section" and "chapter" in (box.element.get("class") or "").split():
            chapters_on_page[placed.page].add(box.element.get("id"))
        if isinstance(box, boxes.ReplacedBox) or isinstance(box, boxes.LineBox) and _line_text(box).strip():
            bottoms[placed.page] = max(bottoms[placed.page], box.position_y + box.margin_height())
    last_page = {chapter: number for number, found in enumerate(chapters_on_page) for chapter in found}
    problems = []
    for number, page in enumerate(document.pages):
        page_box = page._page_box
        if page_box.page_type.name == "cover" or number in last_page.values():
            continue
        top, height = page_box.content_box_y(), page_box.height
        filled = (bottoms[number] - top) / height
        if filled < 1 - max_empty:
            problems.append(f"page {number + 1}: {1 - filled:.0%} empty and no chapter ends on it "
                            f"({', '.join(sorted(chapters_on_page[number]))})")
    return problems


CONFIG_KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
"""A configuration key as client.yaml writes it (control_share): the client never needs one."""


def forbidden_words(document) -> list[str]:
    """Words the report's locale file forbids (`forbidden`: mainland or ambiguous terms, the Japanese dot,
    file and folder names, internal references) and configuration keys, on any page, with their context."""
    from crm_report import i18n

    phrases = i18n.strings(document.metadata.lang or "zh-TW")["forbidden"]
    problems = []
    for number, page in enumerate(document.pages):
        text = "".join(b.text for root in page._page_box.children for b in root.descendants()
                       if isinstance(b, boxes.TextBox))
        found = [(m.start(), m.group()) for m in CONFIG_KEY.finditer(text)]
        found += [(i, phrase) for phrase in phrases for i in _positions(text, phrase)]
        problems += [f"page {number + 1}: {word!r} in …{text[max(0, at - 15):at + len(word) + 15]}…"
                     for at, word in sorted(found)]
    return problems


def _positions(text: str, phrase: str) -> Iterator[int]:
    at = text.find(phrase)
    while at >= 0:
        yield at
        at = text.find(phrase, at + 1)


def all_problems(document) -> list[str]:
    return [*text_outside_page(document), *wide_tables(document), *broken_headers(document),
            *half_empty_pages(document), *forbidden_words(document)]


def chart_problems(ax) -> list[str]:
    """A chart without a title, an axis of numbers without a unit (an axis label, or ticks in % or NT$), or
    text that runs past the figure's edge (a clipped title, a cut-off tick label)."""
    figure = ax.figure
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    problems = []
    if not any(ax.get_title(loc=loc).strip() for loc in ("left", "center", "right")):
        problems.append("no title")
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        labels = [t.get_text() for t in _drawn_tick_labels(axis)]
        if labels and all(NUMBER.match(label) for label in labels) and not (
                axis.label.get_text().strip() or any("%" in label or "NT$" in label for label in labels)):
            problems.append(f"the {name} axis has no unit (ticks {labels[:3]})")
    tick_labels = {id(t) for axis in (ax.xaxis, ax.yaxis) for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                   for t in (tick.label1, tick.label2)}
    texts = [t for t in figure.findobj(Text) if id(t) not in tick_labels]
    texts += [t for axis in (ax.xaxis, ax.yaxis) for t in _drawn_tick_labels(axis)]
    edge = figure.bbox
    for text in texts:
        if not (text.get_visible() and text.get_text().strip()):
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < edge.x0 - 1 or box.x1 > edge.x1 + 1 or box.y0 < edge.y0 - 1 or box.y1 > edge.y1 + 1:
            problems.append(f"{text.get_text()!r} runs past the figure's edge")
    return problems


NUMBER = re.compile(r"^[−-]?(NT\$)?[\d,.]+\s*(萬|億|K|M|%)?$")


def _drawn_tick_labels(axis: Axis) -> list[Text]:
    """The visible labels of the major ticks inside the axis's view (matplotlib keeps a few outside it)."""
    low, high = sorted(axis.get_view_interval())
    return [tick.label1 for tick in axis.get_major_ticks()
            if low - 1e-9 <= tick.get_loc() <= high + 1e-9 and tick.label1.get_visible() and tick.label1.get_text()]


def _breaks_inside_words(source: str, lines: list[str]) -> list[tuple[str, str]]:
    """The (end of line, start of next line) pairs where `lines` split `source` other than at a space or
    a bracket or list mark; a line that is not in the source (a hyphen WeasyPrint added) is a bad break too."""
    bad, position = [], 0
    for previous, line in pairwise([None, *lines]):
        found = source.find(line, position)
        if previous is not None:
            at_space = found > position and source[position:found].isspace()
            at_mark = found == position and (previous[-1] in BREAK_AFTER or line[0] in BREAK_BEFORE)
            if found < 0 or not (at_space or at_mark):
                bad.append((previous[-3:], line[:3]))
        if found >= 0:
            position = found + len(line)
    return bad


def _content_rect(page_box) -> tuple[float, float, float, float]:
    left, top = page_box.content_box_x(), page_box.content_box_y()
    return left, top, left + page_box.width, top + page_box.height


def _line_text(box: boxes.Box) -> str:
    if isinstance(box, boxes.TextBox):
        return box.text
    return "".join(b.text for b in box.descendants() if isinstance(b, boxes.TextBox))


def _is_table_wrapper(box: boxes.Box) -> bool:
    return box.element_tag == "table" and isinstance(box, boxes.BlockBox)


def _table_name(table: boxes.Box) -> str:
    """The table's first header cell, or its first cell."""
    cells = [b for b in table.descendants() if isinstance(b, boxes.TableCellBox)]
    return " ".join("".join(cells[0].element.itertext()).split())[:40] if cells else "?"


def _describe(box: boxes.Box) -> str:
    if isinstance(box, boxes.TextBox):
        return f"text {box.text.strip()[:30]!r}"
    return f"<{box.element_tag} src={box.element.get('src')!r}>"


def main(argv: list[str]) -> int:
    problems = [f"{folder}: {p}" for folder in argv for p in all_problems(render(Path(folder)))]
    print("\n".join(problems) or "no layout problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
