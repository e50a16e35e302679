"""HTML reports to PDF with WeasyPrint, refusing to print without a CJK font.

Without a font that covers Chinese, PDF renderers silently draw empty boxes; a report
with boxes for its customer's name is worse than no report, so this is an error.
"""

from __future__ import annotations

import logging
import shutil
import subprocess

CJK_FAMILY = "Noto Sans CJK SC"  # Debian's fonts-noto-cjk; the stylesheet names it first


class _SvgStyleNoise(logging.Filter):
    """Drops WeasyPrint's warnings about SVG style properties (fill, stroke …) in the charts.

    Its CSS validator knows only HTML properties, yet its SVG renderer applies these; one
    report would otherwise log hundreds of lines that hide the warnings that matter.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Ignored `") and message.endswith("unknown property."))


logging.getLogger("weasyprint").addFilter(_SvgStyleNoise())


class MissingFontError(RuntimeError):
    pass


def require_cjk_font() -> str:
    """The family of an installed font covering Simplified Chinese, else a clear error."""
    if shutil.which("fc-list") is None:
        raise MissingFontError("fontconfig (fc-list) is not installed: install fontconfig and fonts-noto-cjk")
    listed = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=True)
    families = sorted({name.strip() for line in listed.stdout.splitlines() for name in line.split(",")} - {""})
    if not families:
        raise MissingFontError(
            "no font covering Chinese is installed, so the PDF would show boxes instead of characters:"
            " install one, e.g. `apt-get install fonts-noto-cjk` (Debian) — `make install` does this"
        )
    return CJK_FAMILY if CJK_FAMILY in families else families[0]


def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained report page (styles and images inline)."""
    from weasyprint import HTML

    require_cjk_font()
    return HTML(string=html).write_pdf()
