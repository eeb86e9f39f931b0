"""A Discord bot that answers questions from your documents with cited passages.

>>> from bot.render import split_text
>>> split_text("one two three", 8)
['one two', 'three']
"""
