"""The clinical note as a file a clinic can keep: PDF (fpdf2) and DOCX (python-docx).

The text is a note version (therapybridge.signoff): the signed one when there is one, else the
current draft, marked as such on the page. Unicode text needs a TrueType font: DejaVu Sans
(Debian's fonts-dejavu-core, installed in the api image); without it the PDF falls back to a core
font and characters outside Latin-1 become "?".
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# A section heading of the rendered formats: "S — Subjective", "D — Data", "Goal", …
_HEADING = re.compile(r"^([A-Z]{1,2} — .{1,40}|[A-Z][A-Za-z /&-]{1,40})$")


@dataclass
class NoteFile:
    title: str  # e.g. "Clinical note (SOAP)"
    status_line: str  # "Signed by … on …" or "DRAFT — not signed"
    details: list[tuple[str, str]] = field(default_factory=list)  # (label, value): session, date, clinician…
    body: str = ""


def _is_heading(line: str) -> bool:
    return bool(_HEADING.match(line.strip())) and not line.rstrip().endswith((".", ":", ","))


def to_pdf(note: NoteFile) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creator("TherapyBridge")
    pdf.set_auto_page_break(auto=True, margin=15)
    family, latin1_only = "Helvetica", True
    if (FONT_DIR / "DejaVuSans.ttf").exists() and (FONT_DIR / "DejaVuSans-Bold.ttf").exists():
        pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        family, latin1_only = "DejaVu", False

    def text(value: str) -> str:
        if not latin1_only:
            return value
        value = value.replace("—", "-").replace("–", "-").replace("’", "'").replace("“", '"').replace("”", '"')
        return value.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 9, text(note.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 11)
    pdf.multi_cell(0, 7, text(note.status_line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    for label, value in note.details:
        pdf.multi_cell(0, 6, text(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for line in note.body.splitlines():
        if _is_heading(line):
            pdf.ln(2)
            pdf.set_font(family, "B", 12)
            pdf.multi_cell(0, 7, text(line.strip()), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(family, "", 11)
        else:
            pdf.set_font(family, "", 11)
            pdf.multi_cell(0, 6, text(line) or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def to_docx(note: NoteFile) -> bytes:
    doc = Document()
    doc.core_properties.author = "TherapyBridge"
    doc.core_properties.title = ""  # file properties travel without the page: no PHI there
    doc.add_heading(note.title, level=1)
    doc.add_paragraph().add_run(note.status_line).bold = True
    for label, value in note.details:
        doc.add_paragraph(f"{label}: {value}")
    for line in note.body.splitlines():
        if _is_heading(line):
            doc.add_heading(line.strip(), level=2)
        else:
            doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
