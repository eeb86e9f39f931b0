"""Builds tiny PDF files for loader tests, without any PDF-writing dependency."""

from __future__ import annotations


def make_pdf(text: str, title: str | None = None) -> bytes:
    """Return a one-page PDF whose page shows ``text`` (ASCII) and whose metadata has ``title``."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if title:
        objects.append(f"<< /Title ({title}) >>".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    info = b" /Info %d 0 R" % len(objects) if title else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info,
        xref,
    )
    return bytes(out)


def make_outlined_pdf(pages: list[str], marks: list[tuple[str, int, int]]) -> bytes:
    """Return a PDF of one page per text with bookmarks (title, page index, parent mark or -1)."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for text in pages:
        writer.add_page(PdfReader(io.BytesIO(make_pdf(text))).pages[0])
    items: list[object] = []
    for title, page, parent in marks:
        items.append(
            writer.add_outline_item(title, page, parent=items[parent] if parent >= 0 else None)
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
