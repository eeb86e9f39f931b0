"""Misspelt questions: the shared help-channel questions with typos, spelling correction on and off.

Each question of ../shared/corpora/questions gets typos in its longer words (one random edit
each: two letters swapped, one dropped, one doubled or one replaced by a keyboard neighbour),
from a fixed seed, so every run asks the same misspelt questions. Questions to decline are
misspelt too: correction must not make them answerable. Each corpus is evaluated with the
questions as written, and misspelt with ``retrieval.spelling`` off and on, by
``retrieval.eval_docs``; hit@5, answer hit and both abstention rates are printed per run.

    .venv/bin/python benchmarks/typos.py                       # both corpora, one typo per question
    .venv/bin/python benchmarks/typos.py --typos 2 --json out.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.eval_docs import evaluate_docs  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
CORPUS_FOLDERS = {"flask": "flask-docs", "pydantic": "pydantic-docs"}
SEED = 11
MIN_CHARS = 6  # only words this long are misspelt: people mistype long words, not "the"
# Keys next to each other on a QWERTY keyboard: the letter a finger slips to.
NEIGHBOURS = {
    row[i]: row[max(i - 1, 0) : i] + row[i + 1 : i + 2]
    for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    for i in range(len(row))
}
_PLAIN_WORD = re.compile(r"(?<![\w.\-])[a-z]+(?![\w\-]|\.\w)")


def misspell(word: str, rng: random.Random) -> str:
    """Return ``word`` with one random edit inside it (its first letter kept)."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double", "slip"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(NEIGHBOURS.get(word[i], word[i])) + word[i + 1 :]


def misspell_question(text: str, typos: int, rng: random.Random) -> str:
    """Return the question with up to ``typos`` of its long plain words misspelt."""
    spans = [m.span() for m in _PLAIN_WORD.finditer(text) if m.end() - m.start() >= MIN_CHARS]
    for start, end in sorted(rng.sample(spans, min(typos, len(spans))), reverse=True):
        text = text[:start] + misspell(text[start:end], rng) + text[end:]
    return text


def misspelt_file(source: Path, target: Path, typos: int) -> int:
    """Write the questions of ``source`` misspelt to ``target``; return how many changed."""
    rng = random.Random(SEED)
    data = json.loads(source.read_text(encoding="utf-8"))
    changed = 0
    for items in data.values():
        for item in items:
            typed = misspell_question(item["q"], typos, rng)
            changed += typed != item["q"]
            item["q"] = typed
    target.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return changed


def row(label: str, report: Any) -> dict[str, Any]:
    """Return the measured figures of one run, over all questions, and print them."""
    m = report.parts["all"]
    figures = {
        "run": label,
        "hit_at_5": m.hit_at_5,
        "answer_hit": m.answer_hit,
        "wrongly_declined": m.wrongly_abstained,
        "declined": m.oos_abstained,
    }
    print(
        f"| {label} | {m.hit_at_5:.3f} | {m.answer_hit or 0:.3f} "
        f"| {m.wrongly_abstained or 0:.3f} | {m.oos_abstained or 0:.3f} |",
        flush=True,
    )
    return figures


def main() -> None:
    """Evaluate each corpus with its questions as written and misspelt, correction off and on."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", choices=sorted(CORPUS_FOLDERS), action="append")
    parser.add_argument("--typos", type=int, default=1, help="misspelt words per question")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="qabot-typos-") as tmp:
        for name in args.corpus or sorted(CORPUS_FOLDERS):
            docs = CORPORA / CORPUS_FOLDERS[name]
            written = CORPORA / "questions" / f"{name}.json"
            misspelt = Path(tmp) / f"{name}.json"
            changed = misspelt_file(written, misspelt, args.typos)
            print(f"\n{name}: {changed} questions misspelt ({args.typos} word(s) each)")
            print("| questions | hit@5 | answer hit | wrongly declined | declined |")
            print("|---|---|---|---|---|")
            runs = [
                ("as written", written, True),
                ("misspelt, spelling off", misspelt, False),
                ("misspelt, spelling on", misspelt, True),
            ]
            for label, questions, spelling in runs:
                report = evaluate_docs(docs, questions, spelling=spelling)
                results.append({"corpus": name, **row(label, report)})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
