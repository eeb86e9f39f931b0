"""Quality on documents unlike Wikipedia: a news article and two long, hard-wrapped licence texts.

Hand-written questions (benchmarks/questions/other_docs.json) with verbatim answers, plus off-topic
questions that should be declined. Nothing here was used to tune the defaults.

    .venv/bin/python benchmarks/other_docs.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.evaluation import MAX_ANSWER_CHARS, contains_answer  # noqa: E402

QUESTIONS = ROOT / "benchmarks" / "questions" / "other_docs.json"


def main() -> int:
    """Index the documents, ask every question and print the scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every answer")
    args = parser.parse_args()
    from retrieval import KnowledgeBase

    spec = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    documents = [d for d in spec["documents"] if (ROOT / d["path"]).is_file()]
    with tempfile.TemporaryDirectory(prefix="qabot-other-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for d in documents:
            shutil.copy(ROOT / d["path"], docs / (Path(d["path"]).name + ".txt"))
        kb = KnowledgeBase(seeds_dir=docs, persist_dir=Path(tmp) / "chroma")
        kb.ingest()
        rows = []
        for d in documents:
            for question, answers in d["questions"]:
                passages = kb.search(question, k=5)
                answer = kb.ask(question)
                rank = next(
                    (i for i, p in enumerate(passages, 1) if contains_answer(p.text, answers)), 0
                )
                hit = (
                    not answer.abstained
                    and len(answer.text) <= MAX_ANSWER_CHARS
                    and contains_answer(answer.text, answers)
                )
                rows.append((rank, hit, answer.abstained))
                if args.verbose:
                    print(f"{question}\n  rank {rank}, answer hit {hit}: {answer.text[:200]!r}")
        declined = []
        for question in spec["out_of_scope"]:
            answer = kb.ask(question)
            declined.append(answer.abstained)
            if args.verbose:
                print(f"{question}\n  abstained {answer.abstained}: {answer.text[:120]!r}")
    n = len(rows)
    print(f"{n} questions on {len(documents)} documents, {len(declined)} off-topic questions\n")
    print("| metric | value |\n|---|---:|")
    print(f"| hit@1 | {sum(0 < r <= 1 for r, _, _ in rows) / n:.3f} |")
    print(f"| hit@5 | {sum(0 < r <= 5 for r, _, _ in rows) / n:.3f} |")
    print(f"| answer_hit | {sum(h for _, h, _ in rows) / n:.3f} |")
    print(f"| wrongly_abstained | {sum(a for _, _, a in rows) / n:.3f} |")
    print(f"| off-topic abstained | {sum(declined) / len(declined):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
