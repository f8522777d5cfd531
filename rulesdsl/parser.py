"""Parser for ``.rules`` files: logical lines -> :class:`~rulesdsl.ast.RulesFile`.

Errors are collected per line (a bad line is skipped, the rest of the file is still checked) and raised
together as one :class:`~rulesdsl.errors.DslError`. Whatever the input, nothing else escapes: the public
functions turn any internal failure into a located diagnostic (proved by the hypothesis tests).
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from . import ast as A
from .errors import Diagnostic, DslError, did_you_mean
from .lexer import LogicalLine, Token, lex
from .numbers import NumberFormatError, parse_number, scale

ECCN_RE = re.compile(r"^\d[A-E]\d{3}(\.[a-z0-9]+)*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
GROUP_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_:]*$")
DOC_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

TOP_KEYWORDS = ("ruleset", "document", "unit", "kind", "attribute", "parameter", "group", "exception",
                "control", "access", "hint")
RESERVED = {"and", "or", "not", "in", "group", "meets", "true", "false", "from", "through", "cite", "at",
            "confidence", "unresolved", "scope", "end", "except", "when", "unless", "to", "all", "subject"}
CONFIDENCES = ("high", "medium", "low")
STATUS_KINDS = ("suspended", "not_enforced", "rescinded")
DOC_KINDS = ("fr_rule", "fr_notice", "press_release", "guidance", "letter", "other")
PARAM_ROLES = ("control", "exclusion", "exception_ceiling", "policy_eligibility", "presumption", "definition")
ATTR_TYPES = ("number", "bool", "string")
CMP_OPS = (">=", ">", "<=", "<", "==", "!=")

T = TypeVar("T")


class _LineError(Exception):
    def __init__(self, tok: Token | None, msg: str, width: int | None = None) -> None:
        super().__init__(msg)
        self.tok = tok
        self.msg = msg
        self.width = width


class _Cursor:
    """Tokens of one logical line with helpful failure messages."""

    def __init__(self, line: LogicalLine) -> None:
        self.line = line
        self.toks = line.tokens
        self.i = 0

    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at_word(self, *words: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "word" and t.text in words

    def at_op(self, *ops: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "op" and t.text in ops

    def done(self) -> bool:
        return self.i >= len(self.toks)

    def next(self, what: str) -> Token:
        t = self.peek()
        if t is None:
            self.fail(None, f"expected {what} at end of line")
        self.i += 1
        return t

    def fail(self, tok: Token | None, msg: str) -> NoReturn:
        raise _LineError(tok, msg)

    def expect_word(self, word: str) -> Token:
        t = self.peek()
        if t is None or t.kind != "word" or t.text != word:
            self.fail(t, f"expected '{word}'" + (f", found {_show(t)}" if t else " at end of line"))
        self.i += 1
        return t

    def expect_op(self, op: str) -> Token:
        t = self.peek()
        if t is None or t.kind != "op" or t.text != op:
            self.fail(t, f"expected '{op}'" + (f", found {_show(t)}" if t else " at end of line"))
        self.i += 1
        return t

    def word(self, what: str) -> Token:
        t = self.next(what)
        if t.kind != "word":
            self.fail(t, f"expected {what}, found {_show(t)}")
        return t

    def string(self, what: str) -> str:
        t = self.next(what)
        if t.kind != "string":
            self.fail(t, f"expected {what} (a \"quoted string\"), found {_show(t)}")
        return t.text

    def opt_string(self) -> str | None:
        t = self.peek()
        if t is not None and t.kind == "string":
            self.i += 1
            return t.text
        return None

    def end(self) -> None:
        t = self.peek()
        if t is not None:
            self.fail(t, f"unexpected {_show(t)}")


def _show(t: Token | None) -> str:
    if t is None:
        return "end of line"
    return f"'{t.raw}'" if t.kind != "string" else "a string"


class Parser:
    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.text = text
        self.diags: list[Diagnostic] = []
        self.physical: list[str] = []
        self.depth = 0

    # -- helpers -------------------------------------------------------------------------------------
    def loc(self, tok: Token | None, line: LogicalLine) -> A.Loc:
        if tok is None:
            return A.Loc(self.file, line.line, line.indent + 1)
        return A.Loc(self.file, tok.line, tok.col)

    def error(self, line: LogicalLine, e: _LineError) -> None:
        tok = e.tok
        if tok is None:
            ln = line.tokens[-1].line if line.tokens else line.line
            src = self.physical[ln - 1] if 0 < ln <= len(self.physical) else line.source
            col = len(src.rstrip()) + 1
            width = 1
        else:
            ln, col = tok.line, tok.col
            src = self.physical[ln - 1] if 0 < ln <= len(self.physical) else line.source
            width = e.width or max(len(tok.raw), 1)
        self.diags.append(Diagnostic(self.file, ln, col, e.msg, src, width=width))

    # -- entry ---------------------------------------------------------------------------------------
    def parse(self) -> A.RulesFile:
        lx = lex(self.text, self.file)
        self.physical = lx.physical
        self.diags.extend(lx.diagnostics)
        rf = A.RulesFile(loc=A.Loc(self.file, 1, 1), end_comments=lx.end_comments, comments=lx.header_comments)
        i = 0
        lines = lx.lines
        while i < len(lines):
            head = lines[i]
            j = i + 1
            while j < len(lines) and lines[j].indent > 0:
                j += 1
            body = lines[i + 1 : j]
            i = j
            if head.indent > 0:
                self.diags.append(Diagnostic(self.file, head.line, 1,
                                             "indented line outside a declaration (declarations start in "
                                             "column 1)", head.source, width=head.indent))
                continue
            try:
                decl = self.declaration(head, body, rf)
            except _LineError as e:
                self.error(head, e)
                continue
            if decl is not None:
                rf.decls.append(decl)
        return rf

    def declaration(self, head: LogicalLine, body: list[LogicalLine], rf: A.RulesFile) -> Any:
        c = _Cursor(head)
        kw = c.word("a declaration keyword")
        handler: Callable[[_Cursor, LogicalLine, list[LogicalLine]], Any] | None = getattr(
            self, f"decl_{kw.text}", None) if kw.text in TOP_KEYWORDS else None
        if handler is None:
            c.fail(kw, f"unknown declaration '{kw.text}'" + did_you_mean(kw.text, TOP_KEYWORDS))
        if kw.text == "ruleset":
            if rf.title is not None:
                c.fail(kw, "'ruleset' given twice (one title per file)")
            if body:
                c.fail(None, "'ruleset' takes no indented clauses")
            rf.title = c.string("the ruleset title")
            c.end()
            rf.comments = rf.comments + head.leading
            rf.trailing_comment = head.comment
            return None
        node = handler(c, head, body)
        node.comments = head.leading
        node.trailing_comment = head.comment
        node.loc = self.loc(kw, head)
        return node

    def clauses(self, body: list[LogicalLine], table: dict[str, Callable[[_Cursor, Token], Any]],
                what: str, owner: A.HasClauseComments | None = None, once: tuple[str, ...] = ()) -> None:
        """Parse the clause lines of a declaration. Keywords in ``once`` may appear only once; comments of
        one-value clauses (handlers returning no node) are kept in ``owner.clause_comments``."""
        seen: set[str] = set()
        for line in body:
            c = _Cursor(line)
            try:
                kw = c.word(f"a clause of {what}")
                fn = table.get(kw.text)
                if fn is None:
                    c.fail(kw, f"unknown clause '{kw.text}' in {what}" + did_you_mean(kw.text, table))
                if kw.text in once and kw.text in seen:
                    c.fail(kw, f"'{kw.text}' given twice in {what}")
                seen.add(kw.text)
                node = fn(c, kw)
                c.end()
                if isinstance(node, A.Node):
                    node.comments = line.leading
                    node.trailing_comment = line.comment
                    if node.loc is None:
                        node.loc = A.Loc(self.file, kw.line, kw.col)
                elif line.leading or line.comment is not None:
                    if owner is None:  # pragma: no cover - every declaration with one-value clauses passes it
                        c.fail(kw, "comments are not allowed here")
                    owner.clause_comments[kw.text] = A.ClauseComments(leading=line.leading, trailing=line.comment)
            except _LineError as e:
                self.error(line, e)

    # -- value parsers -------------------------------------------------------------------------------
    def date(self, c: _Cursor, what: str = "a date (YYYY-MM-DD)") -> dt.date:
        t = c.word(what)
        if not DATE_RE.match(t.text):
            c.fail(t, f"expected {what}, found '{t.text}'")
        try:
            return dt.date.fromisoformat(t.text)
        except ValueError:
            c.fail(t, f"invalid date '{t.text}'")

    def name(self, c: _Cursor, what: str) -> str:
        t = c.word(what)
        if not NAME_RE.match(t.text):
            c.fail(t, f"expected {what} (letters, digits, '_'), found '{t.text}'")
        if t.text in RESERVED:
            c.fail(t, f"'{t.text}' is a reserved word and cannot be used as {what}")
        return t.text

    def eccn(self, c: _Cursor, what: str = "an ECCN such as 4E091 or 3A090.a") -> str:
        t = c.word(what)
        if not ECCN_RE.match(t.text):
            c.fail(t, f"expected {what}, found '{t.text}'")
        return t.text

    def enum(self, c: _Cursor, options: tuple[str, ...], what: str) -> str:
        t = c.word(what)
        if t.text not in options:
            c.fail(t, f"unknown {what} '{t.text}'" + did_you_mean(t.text, options)
                   + f"; expected one of: {', '.join(options)}")
        return t.text

    def comma_list(self, c: _Cursor, item: Callable[[_Cursor], T]) -> list[T]:
        out = [item(c)]
        while c.at_op(","):
            c.i += 1
            out.append(item(c))
        return out

    def number(self, c: _Cursor) -> A.Number:
        t = c.word("a number")
        try:
            value, notation = parse_number(t.text)
        except NumberFormatError:
            c.fail(t, f"expected a number (e.g. 4800, 5.92, 10^26, 5 x 10^25), found '{t.text}'")
        if c.at_word("x", "X") or c.at_op("*", "×"):
            c.i += 1
            e = c.word("a power of ten such as 10^25")
            try:
                pv, pn = parse_number(e.text)
            except NumberFormatError:
                c.fail(e, f"expected a power of ten such as 10^25, found '{e.text}'")
            if pn != "sci" or pv <= 0 or pv.normalize().as_tuple().digits != (1,):
                c.fail(e, f"expected a power of ten such as 10^25, found '{e.text}'")
            try:
                scaled = scale(value, pv)
            except NumberFormatError as exc:
                c.fail(e, str(exc))
            return A.Number(value=scaled, notation="sci" if scaled != 0 else "plain")
        return A.Number(value=value, notation=notation)

    def cite_tail(self, c: _Cursor) -> A.Cite | None:
        """``[cite DOC, DOC] [at "loc"] [confidence LEVEL] [unresolved "note"]`` in this order."""
        start = c.peek()
        if not c.at_word("cite", "at", "confidence", "unresolved"):
            return None
        cite = A.Cite(docs=[], loc=self.loc(start, c.line))
        if c.at_word("cite"):
            c.i += 1
            cite.docs = self.comma_list(c, lambda cc: self.doc_id(cc))
        if c.at_word("at"):
            c.i += 1
            cite.at = c.string("a locator such as \"Supp. No. 1 to part 774\"")
        if c.at_word("confidence"):
            c.i += 1
            cite.confidence = self.enum(c, CONFIDENCES, "confidence")  # type: ignore[assignment]
        if c.at_word("unresolved"):
            c.i += 1
            cite.unresolved = c.string("a note on what is unresolved")
        return cite

    def doc_id(self, c: _Cursor) -> str:
        t = c.word("a document id such as 2025-00636")
        if not DOC_RE.match(t.text) or t.text in RESERVED:
            c.fail(t, f"expected a document id, found '{t.text}'")
        return t.text

    def window(self, c: _Cursor, node: A.Dated, *, need_start: bool) -> None:
        """``from D [through D]`` or, for effective-style clauses, a leading date."""
        if c.at_word("from"):
            c.i += 1
            node.start = self.date(c)
        elif need_start:
            node.start = self.date(c, "a date (YYYY-MM-DD) or 'from DATE'")
        if c.at_word("through"):
            c.i += 1
            node.end = self.date(c)

    def dated_tail(self, c: _Cursor, node: A.Dated) -> None:
        self.window(c, node, need_start=False)
        node.cite = self.cite_tail(c)

    def dest(self, c: _Cursor) -> A.DestSet:
        d = A.DestSet()
        if c.at_word("all"):
            c.i += 1
            d.all = True
        else:
            d.include = self.comma_list(c, lambda cc: self.dest_item(cc))
        if c.at_word("except"):
            c.i += 1
            d.exclude = self.comma_list(c, lambda cc: self.dest_item(cc))
        return d

    def dest_item(self, c: _Cursor) -> str:
        t = c.word("a country group or ISO country code")
        if not GROUP_RE.match(t.text) or t.text in RESERVED:
            c.fail(t, f"expected a country group or ISO country code, found '{t.text}'")
        return t.text

    def status(self, c: _Cursor, kw: Token) -> A.StatusEvent:
        kind = self.enum(c, STATUS_KINDS, "status")
        ev = A.StatusEvent(kind=kind, loc=self.loc(kw, c.line))
        self.window(c, ev, need_start=True)
        ev.cite = self.cite_tail(c)
        return ev

    # -- expressions ---------------------------------------------------------------------------------
    def expr(self, c: _Cursor) -> A.Expr:
        items = [self.and_expr(c)]
        while c.at_word("or"):
            c.i += 1
            items.append(self.and_expr(c))
        return items[0] if len(items) == 1 else A.Or(items=items, loc=items[0].loc)

    def and_expr(self, c: _Cursor) -> A.Expr:
        items = [self.not_expr(c)]
        while c.at_word("and"):
            c.i += 1
            items.append(self.not_expr(c))
        return items[0] if len(items) == 1 else A.And(items=items, loc=items[0].loc)

    MAX_NESTING = 64

    def not_expr(self, c: _Cursor) -> A.Expr:
        self.depth += 1
        try:
            if self.depth > self.MAX_NESTING:
                c.fail(c.peek(), f"condition nested more than {self.MAX_NESTING} levels deep")
            if c.at_word("not"):
                t = c.next("not")
                return A.Not(item=self.not_expr(c), loc=self.loc(t, c.line))
            return self.primary(c)
        finally:
            self.depth -= 1

    def primary(self, c: _Cursor) -> A.Expr:
        t = c.peek()
        if t is None:
            c.fail(None, "expected a condition at end of line")
        if t.kind == "op" and t.text == "(":
            c.i += 1
            e = self.expr(c)
            c.expect_op(")")
            return e
        if t.kind == "word" and t.text == "meets":
            c.i += 1
            return A.Meets(eccn=self.eccn(c), loc=self.loc(t, c.line))
        left = self.operand(c)
        nt = c.peek()
        if nt is not None and nt.kind == "op" and nt.text in CMP_OPS:
            c.i += 1
            right = self.operand(c)
            return A.Compare(op=nt.text, left=left, right=right, loc=left.loc)
        if nt is not None and nt.kind == "word" and nt.text == "in":
            c.i += 1
            if c.at_word("group"):
                c.i += 1
                return A.InGroup(left=left, group=self.dest_item(c), loc=left.loc)
            c.expect_op("{")
            values: list[A.Lit] = []
            if not c.at_op("}"):
                while True:
                    op = self.operand(c)
                    if not isinstance(op, A.Lit):
                        c.fail(c.toks[c.i - 1], "set members must be literals (numbers or \"strings\")")
                    values.append(op)
                    if not c.at_op(","):
                        break
                    c.i += 1
            c.expect_op("}")
            return A.InSet(left=left, values=values, loc=left.loc)
        if nt is not None and nt.kind == "op" and nt.text == "=":  # pragma: no cover - lexer has no '='
            c.fail(nt, "use '==' to compare")
        return A.Truth(operand=left, loc=left.loc)

    def operand(self, c: _Cursor) -> A.Ref | A.Lit:
        t = c.next("an attribute, parameter, number or string")
        loc = self.loc(t, c.line)
        if t.kind == "string":
            return A.Lit(value=t.text, loc=loc)
        if t.kind != "word":
            c.fail(t, f"expected an attribute, parameter, number or string, found {_show(t)}")
        if t.text in ("true", "false"):
            return A.Lit(value=t.text == "true", loc=loc)
        if t.text[0].isdigit():
            c.i -= 1
            return A.Lit(value=self.number(c), loc=loc)
        name = t.text
        if name.startswith("subject."):
            attr = name[len("subject."):]
            if not NAME_RE.match(attr):
                c.fail(t, f"invalid subject attribute '{name}'")
        elif not NAME_RE.match(name):
            c.fail(t, f"invalid name '{name}'")
        elif name in RESERVED:
            c.fail(t, f"unexpected keyword '{name}' in a condition")
        return A.Ref(name=name, loc=loc)

    # -- declarations --------------------------------------------------------------------------------
    def decl_document(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.DocumentDecl:
        d = A.DocumentDecl(id=self.doc_id(c))
        c.end()

        def scalar(field: str, fn: Callable[[_Cursor], Any]) -> Callable[[_Cursor, Token], None]:
            def h(cc: _Cursor, kw: Token) -> None:
                setattr(d, field, fn(cc))
            return h

        def docdate(kind: str) -> Callable[[_Cursor, Token], A.DocDate]:
            def h(cc: _Cursor, kw: Token) -> A.DocDate:
                dd = A.DocDate(kind=kind, date=self.date(cc), loc=self.loc(kw, cc.line))
                if cc.at_word("through"):
                    cc.i += 1
                    dd.end = self.date(cc)
                if cc.at_word("scope"):
                    cc.i += 1
                    dd.scope = cc.string("the scope, e.g. \"amendatory instruction 11\"")
                dd.cite = self.cite_tail(cc)
                d.dates.append(dd)
                return dd
            return h

        def status(cc: _Cursor, kw: Token) -> A.StatusEvent:
            ev = self.status(cc, kw)
            d.statuses.append(ev)
            return ev

        table: dict[str, Callable[[_Cursor, Token], Any]] = {
            "kind": scalar("kind", lambda cc: self.enum(cc, DOC_KINDS, "document kind")),
            "citation": scalar("citation", lambda cc: cc.string("the citation, e.g. \"90 FR 4544\"")),
            "published": scalar("published", lambda cc: self.date(cc)),
            "title": scalar("title", lambda cc: cc.string("the title")),
            "action": scalar("action", lambda cc: cc.string("the action line")),
            "rin": scalar("rin", lambda cc: self.comma_list(cc, lambda c2: c2.word("a RIN such as 0694-AJ90").text)),
            "docket": scalar("docket", lambda cc: cc.string("the agency docket")),
            "url": scalar("url", lambda cc: cc.string("a URL")),
            "corrects": scalar("corrects", lambda cc: self.doc_id(cc)),
            "suspends": scalar("suspends", lambda cc: self.doc_id(cc)),
            "confidence": scalar("confidence", lambda cc: self.enum(cc, CONFIDENCES, "confidence")),
            "note": scalar("note", lambda cc: cc.string("a note")),
            "effective": docdate("effective"),
            "compliance": docdate("compliance"),
            "comments_due": docdate("comments_due"),
            "status": status,
        }
        self.clauses(body, table, f"document {d.id}", d,
                     once=("kind", "citation", "published", "title", "action", "rin", "docket", "url", "corrects",
                           "suspends", "confidence", "note"))
        return d

    def decl_unit(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.UnitDecl:
        u = A.UnitDecl(name=self.name(c, "a unit name"), description=c.opt_string())
        c.end()
        self.no_body(body, "unit")
        return u

    def decl_kind(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.KindDecl:
        k = A.KindDecl(name=self.name(c, "an asset kind name"), description=c.opt_string())
        c.end()
        self.no_body(body, "kind")
        return k

    def decl_attribute(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.AttributeDecl:
        a = A.AttributeDecl(name=self.name(c, "an attribute name"),
                            type=self.enum(c, ATTR_TYPES, "attribute type"))
        if c.at_word("unit"):
            c.i += 1
            a.unit = self.name(c, "a unit name")
        if c.at_word("of"):
            c.i += 1
            a.kinds = self.comma_list(c, lambda cc: self.name(cc, "an asset kind"))
        if c.at_word("default"):
            c.i += 1
            lit = self.operand(c)
            if not isinstance(lit, A.Lit):
                c.fail(c.toks[c.i - 1], "a default must be a number, a \"string\", true or false")
            a.default = lit.value
        a.description = c.opt_string()
        c.end()
        self.no_body(body, "attribute")
        return a

    def no_body(self, body: list[LogicalLine], what: str) -> None:
        for line in body:
            self.diags.append(Diagnostic(self.file, line.line, line.indent + 1,
                                         f"'{what}' declarations take no indented clauses", line.source))

    def decl_parameter(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.ParameterDecl:
        name = self.name(c, "a parameter name")
        c.expect_word("unit")
        p = A.ParameterDecl(name=name, unit=self.name(c, "a unit name"))
        if c.at_word("role"):
            c.i += 1
            p.role = self.enum(c, PARAM_ROLES, "parameter role")  # type: ignore[assignment]
        p.description = c.opt_string()
        c.end()

        def value(cc: _Cursor, kw: Token) -> A.ParamValue:
            start = self.date(cc)
            if cc.at_word("end"):
                cc.i += 1
                v: A.Number | None = None
            else:
                v = self.number(cc)
            pv = A.ParamValue(start=start, value=v, loc=self.loc(kw, cc.line))
            pv.cite = self.cite_tail(cc)
            p.values.append(pv)
            return pv

        self.clauses(body, {"from": value}, f"parameter {name}")
        return p

    def decl_group(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.GroupDecl:
        g = A.GroupDecl(name=self.dest_item(c), description=c.opt_string())
        c.end()

        def member(cc: _Cursor, kw: Token, start: dt.date | None = None) -> A.Membership:
            if kw.text == "from":
                start = self.date(cc)
                kw2 = cc.word("'add' or 'remove'")
                if kw2.text not in ("add", "remove"):
                    cc.fail(kw2, f"expected 'add' or 'remove', found '{kw2.text}'")
                kw = kw2
            m = A.Membership(op=kw.text, members=self.comma_list(cc, lambda c2: self.dest_item(c2)),
                             start=start, loc=self.loc(kw, cc.line))
            if cc.at_word("through"):
                cc.i += 1
                m.end = self.date(cc)
            m.cite = self.cite_tail(cc)
            g.members.append(m)
            return m

        self.clauses(body, {"from": member, "add": member, "remove": member}, f"group {g.name}")
        return g

    def decl_exception(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.ExceptionDecl:
        code = c.word("a license exception code such as AIA")
        if not re.match(r"^[A-Z][A-Z0-9]*$", code.text):
            c.fail(code, f"expected a license exception code in capitals (e.g. NAC), found '{code.text}'")
        x = A.ExceptionDecl(code=code.text, title=c.opt_string())
        c.end()

        def section(cc: _Cursor, kw: Token) -> None:
            x.section = cc.string("the EAR section, e.g. \"740.27\"")

        def effective(cc: _Cursor, kw: Token) -> A.Dated:
            d = A.Dated(loc=self.loc(kw, cc.line))
            self.window(cc, d, need_start=True)
            d.cite = self.cite_tail(cc)
            x.effective = self.once(cc, kw, x.effective, d)
            return d

        def status(cc: _Cursor, kw: Token) -> A.StatusEvent:
            ev = self.status(cc, kw)
            x.statuses.append(ev)
            return ev

        self.clauses(body, {"section": section, "effective": effective, "status": status},
                     f"exception {x.code}", x, once=("section",))
        return x

    def once(self, c: _Cursor, kw: Token, old: T | None, new: T) -> T:
        if old is not None:
            c.fail(kw, f"'{kw.text}' given twice")
        return new

    def decl_control(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.ControlDecl:
        x = A.ControlDecl(eccn=self.eccn(c), title=c.opt_string())
        c.end()

        def applies(cc: _Cursor, kw: Token) -> None:
            cc.expect_word("to")
            if x.applies_to:
                cc.fail(kw, "'applies to' given twice")
            x.applies_to = self.comma_list(cc, lambda c2: self.name(c2, "an asset kind"))

        def when(cc: _Cursor, kw: Token) -> A.Expr:
            if x.when is not None:
                cc.fail(kw, "'when' given twice; combine conditions with 'and' / 'or'")
            x.when = self.expr(cc)
            x.when_cite = self.cite_tail(cc)
            return x.when

        def except_(cc: _Cursor, kw: Token) -> A.Exclusion:
            cc.expect_word("when")
            ex = A.Exclusion(when=self.expr(cc), loc=self.loc(kw, cc.line))
            ex.cite = self.cite_tail(cc)
            x.exclusions.append(ex)
            return ex

        def reason(cc: _Cursor, kw: Token) -> None:
            x.reasons.extend(self.comma_list(cc, lambda c2: c2.word("a reason for control such as RS").text))

        def effective(cc: _Cursor, kw: Token) -> A.Dated:
            d = A.Dated(loc=self.loc(kw, cc.line))
            self.window(cc, d, need_start=True)
            d.cite = self.cite_tail(cc)
            x.effective = self.once(cc, kw, x.effective, d)
            return d

        def compliance(cc: _Cursor, kw: Token) -> A.Dated:
            d = A.Dated(start=self.date(cc), loc=self.loc(kw, cc.line))
            d.cite = self.cite_tail(cc)
            x.compliance = self.once(cc, kw, x.compliance, d)
            return d

        def license_(cc: _Cursor, kw: Token) -> A.LicenseReq:
            cc.expect_word("required")
            cc.expect_word("to")
            lr = A.LicenseReq(dest=self.dest(cc), loc=self.loc(kw, cc.line))
            self.dated_tail(cc, lr)
            x.licenses.append(lr)
            return lr

        def policy(cc: _Cursor, kw: Token) -> A.Policy:
            name = self.name(cc, "a licensing policy name such as presumption_of_denial")
            cc.expect_word("to")
            p = A.Policy(name=name, dest=self.dest(cc), loc=self.loc(kw, cc.line))
            if cc.at_word("when"):
                cc.i += 1
                p.when = self.expr(cc)
            self.dated_tail(cc, p)
            x.policies.append(p)
            return p

        def exceptions(cc: _Cursor, kw: Token) -> A.ExceptionsClause:
            e = A.ExceptionsClause(codes=self.comma_list(cc, lambda c2: c2.word("a license exception code").text),
                                   loc=self.loc(kw, cc.line))
            self.dated_tail(cc, e)
            x.exceptions.append(e)
            return e

        def status(cc: _Cursor, kw: Token) -> A.StatusEvent:
            ev = self.status(cc, kw)
            x.statuses.append(ev)
            return ev

        self.clauses(body, {"applies": applies, "when": when, "except": except_, "reason": reason,
                            "effective": effective, "compliance": compliance, "license": license_,
                            "policy": policy, "exceptions": exceptions, "status": status},
                     f"control {x.eccn}", x, once=("reason",))
        return x

    def decl_access(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.AccessDecl:
        x = A.AccessDecl(name=self.name(c, "an access rule name"), title=c.opt_string())
        c.end()
        seen_effect: list[Token] = []

        def on(cc: _Cursor, kw: Token) -> None:
            def item(c2: _Cursor) -> str:
                t = c2.word("an ECCN or '*'") if not c2.at_op("*") else c2.next("*")
                if t.text != "*" and not ECCN_RE.match(t.text):
                    c2.fail(t, f"expected an ECCN such as 4E091 or '*', found '{t.text}'")
                return t.text
            x.on = self.comma_list(cc, item)

        def actions(cc: _Cursor, kw: Token) -> None:
            x.actions = self.comma_list(cc, lambda c2: self.enum(c2, A.ACTIONS, "action"))  # type: ignore[arg-type,return-value]

        def effect(cc: _Cursor, kw: Token) -> None:
            if seen_effect:
                cc.fail(kw, f"the effect is already '{seen_effect[0].text}'; an access rule has one effect")
            seen_effect.append(kw)
            x.effect = kw.text  # type: ignore[assignment]

        def when(cc: _Cursor, kw: Token) -> A.Expr:
            x.when = self.once(cc, kw, x.when, self.expr(cc))
            return x.when

        def unless(cc: _Cursor, kw: Token) -> A.Expr:
            x.unless = self.once(cc, kw, x.unless, self.expr(cc))
            return x.unless

        def effective(cc: _Cursor, kw: Token) -> A.Dated:
            d = A.Dated(loc=self.loc(kw, cc.line))
            self.window(cc, d, need_start=True)
            d.cite = self.cite_tail(cc)
            x.effective = self.once(cc, kw, x.effective, d)
            return d

        self.clauses(body, {"on": on, "actions": actions, "release": effect, "allow": effect, "deny": effect,
                            "when": when, "unless": unless, "effective": effective}, f"access {x.name}", x,
                     once=("on", "actions"))
        if not seen_effect and body:
            self.diags.append(Diagnostic(self.file, head.line, 1,
                                         f"access {x.name}: missing effect line ('release', 'allow' or 'deny')",
                                         head.source, width=len(head.source.rstrip()) or 1))
        return x

    def decl_hint(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> A.HintDecl:
        fk = self.enum(c, A.FILE_KINDS, "file kind")
        c.expect_op("->")
        kind = self.name(c, "an asset kind")
        pats = self.comma_list(c, lambda cc: cc.string("a path glob such as \"*.safetensors\""))
        c.end()
        self.no_body(body, "hint")
        return A.HintDecl(file_kind=fk, asset_kind=kind, patterns=pats)

    def decl_ruleset(self, c: _Cursor, head: LogicalLine, body: list[LogicalLine]) -> None:  # pragma: no cover
        return None


def parse_text(text: str, file: str = "<rules>") -> A.RulesFile:
    """Parse DSL text. Raises :class:`DslError` (and nothing else) listing every syntax error found."""
    text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark (Windows editors) is not content
    p = Parser(text, file)
    # Parsing allocates millions of small objects and no garbage cycles: without this, CPython's cyclic
    # collector rescans the growing heap again and again (half the time of a 5,000-control parse).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        rf = p.parse()
    except DslError:
        raise
    except RecursionError:
        raise DslError([Diagnostic(file, 1, 1, "input nested too deeply")]) from None
    except Exception as exc:  # defensive: the parser must only ever raise DslError
        raise DslError([Diagnostic(file, 1, 1, f"internal parser error: {type(exc).__name__}: {exc}")]) from None
    finally:
        if was_enabled:
            gc.enable()
    if p.diags:
        raise DslError(sorted(p.diags, key=lambda d: (d.line, d.col)))
    return rf


def parse_file(path: str | Path) -> A.RulesFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DslError([Diagnostic(str(path), 1, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    except OSError as exc:
        raise DslError([Diagnostic(str(path), 0, 0, f"cannot read: {exc.strerror}")]) from None
    return parse_text(text, str(path))
