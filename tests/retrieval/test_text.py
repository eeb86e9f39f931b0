from __future__ import annotations

from retrieval.text import key_terms, sentence_spans


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


def test_a_hard_wrapped_line_does_not_end_a_sentence() -> None:
    text = "The licence is granted\nto everyone who asks.\nNew rules apply. e.g. this"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "The licence is granted\nto everyone who asks.",
        "New rules apply. e.g. this",
    ]


def test_key_terms_are_stemmed_content_words_without_question_words_or_repeats() -> None:
    question = "What did the Normans give their name to? Normans named Normandy"
    assert key_terms(question) == ["norman", "give", "name", "normandi"]
