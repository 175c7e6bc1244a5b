"""A report's Markdown as a PDF, with fpdf2: pure Python (no system libraries to install),
and it embeds (subsets) a TrueType font, so any text the font covers prints as written.
The font is DejaVu Sans (Debian's fonts-dejavu-core, wide Unicode coverage); where it is
not installed the PDF falls back to a core font, and characters outside Latin-1 print as
"?". Handled: headings (#, ##, ###), bullets, rules, paragraphs, and **bold**."""

from __future__ import annotations

import re
from pathlib import Path

from fpdf import FPDF

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
HEADING_SIZES = {1: 18.0, 2: 14.0, 3: 12.0}
BODY_SIZE = 10.5
LINE = 5.5  # mm a body line takes
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![*\w])[*_](\S(?:.*?\S)?)[*_](?![*\w])")
_ESCAPED = re.compile(r"\\([\\`*_\[\]<>#|~])")


def _font_dir() -> Path | None:
    for directory in FONT_DIRS:
        if all((directory / name).is_file() for name in FONT_FILES.values()):
            return directory
    return None


class _Report(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=18)
        directory = _font_dir()
        if directory is not None:
            for style, name in FONT_FILES.items():
                self.add_font("DejaVu", style, str(directory / name))
            self.family = "DejaVu"
            self.unicode = True
        else:
            self.family, self.unicode = "Helvetica", False

    def text_of(self, text: str) -> str:
        text = _ESCAPED.sub(r"\1", text)
        if self.unicode:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 6, f"{self.page_no()}", align="C")

    def rich(self, text: str, *, size: float = BODY_SIZE, style: str = "") -> None:
        """One paragraph, wrapped, with its **bold** parts bold."""
        text = _EMPHASIS.sub(r"\1", text)
        for index, part in enumerate(_BOLD.split(text)):
            self.set_font(self.family, "B" if index % 2 else style, size)
            self.write(LINE, self.text_of(part))
        self.ln(LINE)


def render_pdf(markdown: str, *, title: str) -> bytes:
    """The report as PDF bytes."""
    pdf = _Report()
    pdf.set_title(title)
    pdf.set_creator("EngLog")
    pdf.add_page()
    for raw in markdown.splitlines():
        line = raw.rstrip()
        heading, bullet = _HEADING.match(line), _BULLET.match(line)
        if not line:
            pdf.ln(LINE / 2)
        elif heading:
            level = len(heading.group(1))
            pdf.ln(LINE / 2 if level > 1 else 0)
            pdf.set_font(pdf.family, "B", HEADING_SIZES[level])
            pdf.multi_cell(0, HEADING_SIZES[level] * 0.5, pdf.text_of(heading.group(2)))
            pdf.ln(1)
        elif line.strip() in {"---", "***", "___"}:
            pdf.ln(1)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
            pdf.ln(2)
        elif bullet:
            pdf.set_x(pdf.l_margin + 4)
            pdf.set_font(pdf.family, "", BODY_SIZE)
            pdf.write(LINE, "• " if pdf.unicode else "- ")
            pdf.rich(bullet.group(1))
        else:
            italic = line.startswith("*") and line.endswith("*") and not line.startswith("**")
            pdf.rich(line.strip("*") if italic else line, style="I" if italic else "")
    return bytes(pdf.output())
