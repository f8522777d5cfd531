"""The shared spaCy pipeline: blank English (tokenizer only, no model download), built once, lazily.

Extraction modules build their rule-based matchers (``Matcher``, ``PhraseMatcher``, ``EntityRuler``) on
its vocabulary. Importing spaCy costs about 0.1 s and memory, so nothing imports it until it is needed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def blank() -> Any:
    import spacy

    return spacy.blank("en")


def tokens(text: str) -> Any:
    """A spaCy ``Doc`` of ``text`` (tokenizer only)."""
    return blank()(text)
