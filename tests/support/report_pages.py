"""PDF reports as a person sees them: page images to look at, and the words with their boxes on each page.

Pages go to ``.itss/pytest/report-pages/<kind>/<unit>.<language>-<page>.png`` (git-ignored local
state), replaced on each run, so that after a test run someone can open them; nothing asserts on pixels.
"""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from itss_warehouse.reports.rendering import RenderedReport

PAGES_DIR = Path(__file__).resolve().parents[2] / ".itss" / "pytest" / "report-pages"
MARGIN = 15 / 25.4 * 72  # the stylesheet's left and right page margin, 15 mm, in points
PAGE = re.compile(r'<page width="(?P<width>[\d.]+)" height="(?P<height>[\d.]+)">(?P<words>.*?)</page>', re.S)
WORD = re.compile(
    r'<word xMin="(?P<x_min>[\d.]+)" yMin="(?P<y_min>[\d.]+)" xMax="(?P<x_max>[\d.]+)" yMax="(?P<y_max>[\d.]+)">'
    r"(?P<text>.*?)</word>"
)


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def body(self) -> list[Word]:
        """The words between the running header and the footer."""
        return [word for word in self.words if MARGIN < word.y_min < self.height - MARGIN]

    @property
    def holds_a_line_or_two(self) -> bool:
        """At most three lines of body text within a fifth of the page (a chart's text is drawn: its caption counts)."""
        lines = {round(word.y_min) for word in self.body}
        extent = max(word.y_max for word in self.body) - min(word.y_min for word in self.body) if self.body else 0
        return len(lines) <= 3 and extent <= self.height / 5

    def beyond_the_right_margin(self) -> list[str]:
        return [word.text for word in self.words if word.x_max > self.width - MARGIN + 0.5]


def save_pages(report: RenderedReport, resolution: int = 60) -> list[Path]:
    """The report's PDF pages as PNG images under PAGES_DIR, replacing those of an earlier run."""
    folder = PAGES_DIR / report.kind
    folder.mkdir(parents=True, exist_ok=True)
    prefix = f"{report.unit_id}.{report.language}"
    for old in folder.glob(f"{prefix}-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(resolution), str(report.files["pdf"]), str(folder / prefix)], check=True
    )
    return sorted(folder.glob(f"{prefix}-*.png"))


def pdf_pages(pdf: Path) -> list[Page]:
    """Every page's size and words with their boxes (points, origin top left), by ``pdftotext -bbox``."""
    listing = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True)
    return [
        Page(
            float(page["width"]),
            float(page["height"]),
            [
                Word(html.unescape(word["text"]), *(float(word[key]) for key in ("x_min", "y_min", "x_max", "y_max")))
                for word in WORD.finditer(page["words"])
            ],
        )
        for page in PAGE.finditer(listing.stdout)
    ]
