"""The shared spaCy pipeline: blank English (tokenizer only, no model download), built once, lazily.

Extraction modules build their rule-based matchers (``Matcher``, ``PhraseMatcher``, ``EntityRuler``) on
its vocabulary. Importing spaCy costs about 0.1 s and memory, so nothing imports it until it is needed.

Matcher patterns test tokens with :func:`flag` attributes rather than ``REGEX``/``IN``/comparison
predicates: spaCy evaluates those in Python for every token, while a lexeme flag is computed once per
distinct word (when the vocabulary first sees it) and tested in C. On the dates of a daily issue this
halved the matcher's time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

_FLAGS: dict[str, int] = {}


@lru_cache(maxsize=1)
def blank() -> Any:
    """The blank English pipeline, its tokenizer without special cases ("a.", "Jan.", "e.g." stay whole
    tokens with them). spaCy caches how it splits each word, but not for a text that holds a special case:
    every lettered CCL item ("a. ...") and every date with "Jan." was split afresh, 5-25x slower. Without
    them a trailing period is a token of its own, which the patterns allow ("Jan" "." "17")."""
    import spacy

    nlp = spacy.blank("en")
    tokenizer: Any = nlp.tokenizer
    tokenizer.rules = {}
    return nlp


@lru_cache(maxsize=64)
def attr_ids(*names: str) -> tuple[int, ...]:
    """spaCy attribute ids (``IDX``, ``LENGTH``, ...) for ``Doc.to_array``, looked up once."""
    from spacy import attrs

    return tuple(int(getattr(attrs, n)) for n in names)


def tokens(text: str) -> Any:
    """A spaCy ``Doc`` of ``text`` (tokenizer only)."""
    return blank().tokenizer(text)


def flag(name: str, getter: Callable[[str], bool]) -> int:
    """The attribute id of a boolean lexeme flag of the shared vocabulary (registered once per ``name``), for
    patterns such as ``{flag("MONTH", ...): True}``."""
    if name not in _FLAGS:
        _FLAGS[name] = int(blank().vocab.add_flag(getter))
    return _FLAGS[name]


def regex_flag(name: str, pattern: str) -> int:
    """A flag set on words that ``pattern`` matches whole."""
    rx = re.compile(pattern)
    return flag(name, lambda s: rx.fullmatch(s) is not None)


def words_flag(name: str, words: Iterable[str]) -> int:
    """A flag set on words whose lower case is one of ``words``."""
    ws = frozenset(words)
    return flag(name, lambda s: s.lower() in ws)


def matcher() -> Any:
    """A new ``Matcher`` on the shared vocabulary. Pattern validation is off: its schema does not know flag
    attributes (integer keys), which spaCy's matcher itself supports."""
    from spacy.matcher import Matcher

    return Matcher(blank().vocab, validate=False)
