"""The printable certificate: one A4 landscape page, Indonesian with English beneath, and a QR code to the page.

fpdf2's built-in fonts cover Latin-1 only; characters outside it are printed as ``?`` (the page and the credential
carry the exact name)."""

from __future__ import annotations

import io
from datetime import date

import segno
from fpdf import FPDF

MONTHS_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def indonesian_date(day: date) -> str:
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


def render_pdf(
    *,
    holder_name: str,
    course_title: str,
    institution_name: str,
    completed_on: date,
    score: int,
    certificate_id: str,
    url: str,
    revoked: bool,
) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_creator("prakerja")
    pdf.set_title(_latin1(f"Sertifikat Prakerja {certificate_id}"))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_draw_color(11, 12, 12)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_y(24)
    pdf.set_font("Helvetica", "B", 26)
    pdf.cell(0, 12, "SERTIFIKAT PRAKERJA", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "I", 12)
    pdf.cell(0, 7, "Kartu Prakerja certificate", align="C", new_x="LMARGIN", new_y="NEXT")
    if revoked:
        pdf.set_text_color(180, 0, 0)
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, "DICABUT / REVOKED", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 13)
    pdf.cell(0, 7, "Diberikan kepada / Awarded to", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(0, 13, _latin1(holder_name), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 13)
    pdf.cell(
        0, 7, "telah menyelesaikan pelatihan / for completing the training", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, _latin1(course_title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 13)
    pdf.cell(0, 7, _latin1(f"oleh / by {institution_name}"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        7,
        _latin1(f"pada / on {indonesian_date(completed_on)} - nilai / score {score}"),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=6, border=2)
    qr.seek(0)
    pdf.image(qr, x=20, y=150, w=40, h=40)
    pdf.set_xy(66, 160)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(200, 5, _latin1(f"Periksa keaslian / Verify: {url}\nID: {certificate_id}"))
    return bytes(pdf.output())
