"""Line-oriented lexer for ``.rules`` files.

A file is a sequence of logical lines. Indentation 0 starts a declaration; an indented line is a clause of
the declaration above it. A logical line continues over physical lines while a ``(`` or ``{`` is open.
``#`` starts a comment (outside strings). Full-line comments attach to the next item; an end-of-line
comment is that item's trailing comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import Diagnostic

# A "word" covers identifiers, ECCNs (3A090.a), group names (D:5), dates, document ids (2025-00636),
# and numbers (4800, 5.92, 10^26, 1e26, 26_900_000).
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-^+]*")
_OPS = (">=", "<=", "==", "!=", "->", ">", "<", "(", ")", "{", "}", ",", "*", "×")


@dataclass
class Token:
    kind: str  # "word" | "string" | "op"
    text: str  # for strings: the decoded value
    line: int
    col: int
    raw: str  # exactly as written

    def __repr__(self) -> str:
        return f"{self.kind}:{self.text!r}@{self.line}:{self.col}"


@dataclass
class LogicalLine:
    indent: int
    tokens: list[Token]
    line: int  # first physical line
    source: str  # the first physical line (for carets)
    comment: str | None = None  # trailing comment
    leading: list[str] = field(default_factory=list)  # full-line comments above


@dataclass
class LexResult:
    lines: list[LogicalLine]
    end_comments: list[str]
    header_comments: list[str]
    diagnostics: list[Diagnostic]
    physical: list[str]


def _decode_string(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def lex(text: str, file: str) -> LexResult:
    physical = text.split("\n")
    diags: list[Diagnostic] = []
    lines: list[LogicalLine] = []
    pending_comments: list[str] = []
    current: LogicalLine | None = None
    depth = 0
    header: list[str] = []
    header_open = True  # still in the comment block at the very top of the file

    def err(ln: int, col: int, msg: str, width: int = 1) -> None:
        src = physical[ln - 1] if 0 < ln <= len(physical) else ""
        diags.append(Diagnostic(file, ln, col, msg, src, width=width))

    for ln, raw_line in enumerate(physical, start=1):
        line = raw_line.rstrip("\r")
        if "\x00" in line:
            err(ln, line.index("\x00") + 1, "NUL character in source")
            line = line.replace("\x00", " ")
        stripped = line.strip()
        if depth == 0:
            if not stripped:
                if header_open and pending_comments and not lines:
                    header.extend(pending_comments)  # a top comment block followed by a blank line
                    pending_comments = []
                header_open = header_open and not lines and not pending_comments
                continue
            if stripped.startswith("#"):
                body = stripped[1:]
                pending_comments.append(body[1:] if body.startswith(" ") else body)
                continue
            expanded = line.expandtabs(2)
            indent = len(expanded) - len(expanded.lstrip(" "))
            current = LogicalLine(indent=indent, tokens=[], line=ln, source=line, leading=pending_comments)
            pending_comments = []
            lines.append(current)
        elif current is None:  # pragma: no cover - depth>0 implies a current line
            continue
        i = 0
        n = len(line)
        while i < n:
            ch = line[i]
            if ch in " \t\r\f\v":
                i += 1
                continue
            col = i + 1
            if ch == "#":
                comment = line[i + 1 :]
                comment = comment[1:] if comment.startswith(" ") else comment
                if depth > 0:
                    err(ln, col, "comments are not allowed inside an open '(' or '{'; move it above the line")
                elif current.comment is None:
                    current.comment = comment.rstrip()
                break
            if ch == '"':
                j = i + 1
                while j < n and line[j] != '"':
                    j += 2 if line[j] == "\\" else 1
                if j >= n:
                    err(ln, col, "unterminated string (strings end on the same line with '\"')", n - i)
                    i = n
                    break
                body = line[i + 1 : j]
                current.tokens.append(Token("string", _decode_string(body), ln, col, line[i : j + 1]))
                i = j + 1
                continue
            m = _WORD.match(line, i)
            if m:
                end = m.end()
                if line.startswith("->", end - 1) and end - 1 > i:  # "weights->model_weights"
                    end -= 1
                word = line[i:end]
                current.tokens.append(Token("word", word, ln, col, word))
                i = end
                continue
            for op in _OPS:
                if line.startswith(op, i):
                    current.tokens.append(Token("op", op, ln, col, op))
                    if op in "({":
                        depth += 1
                    elif op in ")}":
                        depth = max(depth - 1, 0)
                    i += len(op)
                    break
            else:
                err(ln, col, f"unexpected character {ch!r}")
                i += 1
    if depth > 0 and current is not None:
        err(current.line, 1, "unclosed '(' or '{' at end of file", max(len(current.source), 1))
    if not lines:  # a file of comments only: they are all end comments
        return LexResult(lines, header + pending_comments, [], diags, physical)
    return LexResult(lines, pending_comments, header, diags, physical)
