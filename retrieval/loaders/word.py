"""Word documents through python-docx: headings from their styles, tables as rows, in body order."""

from __future__ import annotations

import io
import re
from pathlib import Path

from retrieval.loaders.base import Parsed, SkipFile, TextBuilder, register, title_from_name
from retrieval.loaders.slugs import Slugger

HEADING_STYLE = re.compile(r"Heading (\d)")  # Word's built-in "Heading 1" .. "Heading 9"
LIST_STYLE = re.compile(r"List (Bullet|Number|Paragraph)")


@register(".docx")
def parse_docx(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return a Word document's paragraphs and tables; its title property or Title style names it.

    Word headings sit one level under the Title style, which heads the whole document.
    """
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        items = list(document.iter_inner_content())
        core_title = (document.core_properties.title or "").strip()
    except Exception as exc:  # noqa: BLE001 - a damaged zip or XML fails in many ways
        raise SkipFile(f"the Word document cannot be read ({type(exc).__name__})") from None
    # The file is a zip: there are no text offsets into it, so offsets are into the text itself.
    out = TextBuilder("")
    slugger = Slugger("toc")
    styled_title = ""
    for item in items:
        if isinstance(item, Table):
            rows = [" | ".join(_dedupe(cell.text for cell in row.cells)) for row in item.rows]
            out.add("\n".join(r for r in rows if r.strip(" |")), 0, 0, kind="table")
        elif isinstance(item, Paragraph):
            text = " ".join(item.text.split())
            style = item.style.name if item.style is not None else ""
            heading = HEADING_STYLE.fullmatch(style or "")
            if style == "Title":
                styled_title = styled_title or text
                out.heading(1, text, slugger.slug(text), 0, 0)
            elif heading:
                out.heading(int(heading.group(1)) + 1, text, slugger.slug(text), 0, 0)
            else:
                out.add(f"- {text}" if LIST_STYLE.match(style or "") else text, 0, 0)
    parsed = out.build(core_title or styled_title or _first_heading(out) or title_from_name(path))
    return Parsed(
        title=parsed.title,
        text=parsed.text,
        offsets=((0, 0, len(parsed.text)),),
        sections=parsed.sections,
        blocks=parsed.blocks,
    )


def _first_heading(builder: TextBuilder) -> str:
    """Return the first heading written so far, or ''."""
    sections = builder.build("").sections
    return sections[0].title if sections else ""


def _dedupe(cells: object) -> list[str]:
    """Return cell texts with the repeats of a merged cell left out."""
    out: list[str] = []
    for text in cells:  # type: ignore[attr-defined]
        text = " ".join(str(text).split())
        if not out or text != out[-1]:
            out.append(text)
    return out
