from __future__ import annotations

from retrieval.text import sentence_spans


def test_sentences_keep_their_closing_quotes_and_brackets() -> None:
    text = (
        "Trump said intervention “sounds good.”\nWashington imposed sanctions. "
        'He said "no." Then (it rained.) Done'
    )
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Trump said intervention “sounds good.”",
        "Washington imposed sanctions.",
        'He said "no."',
        "Then (it rained.)",
        "Done",
    ]
