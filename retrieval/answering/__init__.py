"""Answers: extractive excerpts, abstention, and generated answers checked against passages."""
