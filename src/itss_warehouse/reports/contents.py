"""The table of contents a report gets when it runs over a few pages.

The rule (docs/decisions.md): a report whose body is estimated at more than ``PAGES_WITHOUT_CONTENTS``
A4 pages gets a contents list of its sections (its ``<h2>`` headings) before its body, with page
numbers in print (WeasyPrint's ``target-counter``). The estimate counts what takes room — table
rows, paragraphs, section headings, charts — in lines of a page; it is made on the HTML, not on
a laid-out PDF, so the HTML and the PDF are the same document and a
report rendered only as HTML costs no layout.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import escape

# Reports of five pages or more (a body of four, and the cover) get one: the threshold lies between the
# longest body measured at three pages (estimated 3.2) and the shortest at four (3.4).
PAGES_WITHOUT_CONTENTS = 3.3
LINES_PER_PAGE = 48  # 10 pt text on A4 within 18 mm margins, tables' 1 mm padding included
# Lines one element takes, measured on the rendered reports (tests/reports/test_document_control.py).
LINES = {"tr": 1.3, "p": 2.0, "h2": 3.0, "h3": 2.0, "li": 1.0, "figure": 30.0}
ELEMENT = re.compile(r"<(" + "|".join(LINES) + r")[\s>]")
CHART = re.compile(r"<svg.*?</svg>", re.S)  # a chart's drawing: its room is the figure's

HEADING = re.compile(r"<h2(?P<attributes>[^>]*)>(?P<title>.*?)</h2>", re.S)
COVER_END = "<!-- end of cover -->"  # cover.html.j2 ends with it; the contents go after it


def estimated_pages(body: str) -> float:
    """The body's length in A4 pages, from what it holds (see the module docstring)."""
    return sum(LINES[match[1]] for match in ELEMENT.finditer(CHART.sub("", body))) / LINES_PER_PAGE


def with_contents(html: str, catalogue: dict[str, Any]) -> str:
    """The report with a contents list after its cover when it is long, else as it is."""
    cover, marker, body = html.partition(COVER_END)
    if estimated_pages(body) <= PAGES_WITHOUT_CONTENTS:  # no marker: no body, no contents
        return html
    entries: list[tuple[str, str]] = []  # (anchor, heading)

    def anchor(match: re.Match[str]) -> str:
        entries.append((f"section-{len(entries) + 1}", match["title"]))
        return f'<h2 id="{entries[-1][0]}"{match["attributes"]}>{match["title"]}</h2>'

    body = HEADING.sub(anchor, body)
    # The headings are the template's own, already escaped: they go into the list as they are.
    items = "".join(f'<li><a href="#{target}">{title}</a></li>' for target, title in entries)
    heading = escape(catalogue["cover"]["contents"])
    contents = f'<nav class="contents"><p class="contents-heading">{heading}</p><ol>{items}</ol></nav>'
    return f"{cover}{marker}\n{contents}{body}"
