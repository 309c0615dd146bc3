"""The printable certificate of an award: one A4 landscape PDF page with the competition, the
award, the recipient, the basis, the date, the issuing organisation, the certificate code and a
QR code of the public verification page.

For 下载全部证书 (a background job, ``competitions.jobs``) the same page is drawn for every valid
certificate of a competition into one ZIP: each certificate as its own PDF, named by code and
recipient, and one combined PDF of all pages for printing (合并打印).

The Chinese text uses reportlab's built-in CID font STSong-Light, which PDF readers supply
themselves, so no font file ships with the application (the intranet rule: nothing fetched from
outside). The code is also written in a standard font and in the document's metadata, so a text
search of the file finds it."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from .models import Certificate

FONT = "STSong-Light"
CODE_FONT = "Helvetica"
PARTY_RED = Color(0.70, 0.07, 0.11)
QR_SIZE = 34 * mm
# Characters Windows refuses in a file name (and control characters), replaced in ZIP members.
UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
RECIPIENT_IN_FILENAME = 60  # characters: the whole name stays far below Windows' 260-character path
COMBINED_NAME = "合并打印（全部证书）.pdf"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break Chinese text (no spaces to break at) into lines no wider than ``width``."""
    lines: list[str] = []
    line = ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, font, size) > width and line:
            lines.append(line)
            line = char
        else:
            line += char
    if line:
        lines.append(line)
    return lines


def certificate_pdf(certificate: Certificate, verify_url: str) -> bytes:
    """The certificate as PDF bytes. ``verify_url`` is the absolute address of its public
    verification page (printed as a QR code and as text)."""
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=landscape(A4))
    pdf.setTitle(f"荣誉证书 {certificate.code}")
    pdf.setSubject(certificate.code)
    pdf.setAuthor(certificate.award.competition.organization.name)
    pdf.setCreator("PartyEdu")
    _draw_page(pdf, certificate, verify_url)
    pdf.save()
    return buffer.getvalue()


def _draw_page(pdf: Canvas, certificate: Certificate, verify_url: str) -> None:
    """Draw the certificate as the canvas's next page."""
    award: Any = certificate.award
    competition = award.competition
    font = _font()
    width, height = landscape(A4)

    # A double red frame.
    pdf.setStrokeColor(PARTY_RED)
    pdf.setLineWidth(4)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    pdf.setLineWidth(1)
    pdf.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)

    centre = width / 2
    pdf.setFillColor(PARTY_RED)
    pdf.setFont(font, 40)
    pdf.drawCentredString(centre, height - 48 * mm, "荣 誉 证 书")

    # The recipient in the largest size that fits on two lines (a lecture's title can be long).
    pdf.setFillColor(black)
    text_width = width - 90 * mm
    size = 26
    lines = _wrap(award.recipient, font, size, text_width)
    while len(lines) > 2 and size > 14:
        size -= 2
        lines = _wrap(award.recipient, font, size, text_width)
    pdf.setFont(font, size)
    y = height - 68 * mm
    for line in lines[:3]:
        pdf.drawCentredString(centre, y, line)
        y -= size * 0.5 * mm
    body = f"在{competition.title}中，被评为"
    pdf.setFont(font, 16)
    y -= 8 * mm
    for line in _wrap(body, font, 16, text_width):
        pdf.drawCentredString(centre, y, line)
        y -= 9 * mm
    pdf.setFillColor(PARTY_RED)
    pdf.setFont(font, 30)
    pdf.drawCentredString(centre, y - 6 * mm, f"“{award.label}”")
    pdf.setFillColor(black)
    y -= 20 * mm
    if award.basis:
        pdf.setFont(font, 12)
        for line in _wrap(f"评定依据：{award.basis}", font, 12, text_width):
            pdf.drawCentredString(centre, y, line)
            y -= 6.5 * mm

    # Issuer and date at the bottom right, the code and QR at the bottom left.
    right = width - 34 * mm
    pdf.setFont(font, 16)
    pdf.drawRightString(right, 44 * mm, competition.organization.name)
    day = award.awarded_on
    pdf.drawRightString(right, 35 * mm, f"{day.year}年{day.month}月{day.day}日")

    qr = QrCodeWidget(verify_url, barLevel="M")
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0])
    drawing.add(qr)
    left = 30 * mm
    renderPDF.draw(drawing, pdf, left, 30 * mm)
    pdf.setFont(font, 10)
    pdf.drawString(left + QR_SIZE + 4 * mm, 52 * mm, "证书编号")
    pdf.setFont(CODE_FONT, 12)
    pdf.drawString(left + QR_SIZE + 4 * mm, 46 * mm, certificate.code)
    pdf.setFont(font, 9)
    pdf.drawString(left + QR_SIZE + 4 * mm, 38 * mm, "扫描二维码或访问以下地址查验：")
    pdf.setFont(CODE_FONT, 8)
    pdf.drawString(left + QR_SIZE + 4 * mm, 33 * mm, verify_url[:90])

    pdf.showPage()


def certificate_filename(certificate: Certificate) -> str:
    """``<code>_<recipient>.pdf`` with what Windows cannot take in a file name replaced by "_",
    no trailing dots or spaces, the recipient cut to a length any unzip tool accepts. The
    code (unique, from a safe alphabet) keeps the names distinct and never a reserved name."""
    recipient = UNSAFE_FILENAME.sub("_", certificate.award.recipient)
    recipient = re.sub(r"\s+", " ", recipient).strip(" .")[:RECIPIENT_IN_FILENAME].rstrip(" .")
    return f"{certificate.code}_{recipient}.pdf" if recipient else f"{certificate.code}.pdf"


def certificate_batch_zip(
    certificates: Sequence[Certificate],
    verify_url: Callable[[str], str],
    *,
    title: str = "",
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """A ZIP of one PDF per certificate plus ``COMBINED_NAME`` holding every page in the same
    order. ``verify_url(code)`` gives each certificate's verification address; ``progress(n)``
    is told how many certificates are done."""
    archive = io.BytesIO()
    combined_buffer = io.BytesIO()
    combined = Canvas(combined_buffer, pagesize=landscape(A4))
    combined.setTitle(f"荣誉证书（合并打印）{title}".strip())
    combined.setCreator("PartyEdu")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for done, certificate in enumerate(certificates, start=1):
            url = verify_url(certificate.code)
            bundle.writestr(certificate_filename(certificate), certificate_pdf(certificate, url))
            _draw_page(combined, certificate, url)
            if progress is not None:
                progress(done)
        combined.save()
        bundle.writestr(COMBINED_NAME, combined_buffer.getvalue())
    return archive.getvalue()
