"""Canonical printer for the rules DSL. ``parse(format(ast)) == ast`` and formatting is idempotent.

Canonical form: declarations separated by one blank line, clauses indented by two spaces, clause order
fixed per declaration, options in a fixed order (``from``, ``through``, ``scope``, ``cite``, ``at``,
``confidence``, ``unresolved``), strings double-quoted with ``\\"`` / ``\\\\`` / ``\\n`` escapes, and a
long condition broken over lines inside parentheses.
"""

from __future__ import annotations

from . import ast as A
from .numbers import format_number

INDENT = "  "
MAX_WIDTH = 110


def q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def fmt_cite(c: A.Cite | None) -> str:
    if c is None:
        return ""
    parts: list[str] = []
    if c.docs:
        parts.append("cite " + ", ".join(c.docs))
    if c.at is not None:
        parts.append("at " + q(c.at))
    if c.confidence is not None:
        parts.append("confidence " + c.confidence)
    if c.unresolved is not None:
        parts.append("unresolved " + q(c.unresolved))
    return " ".join(parts)


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def fmt_window(start: object, end: object, *, bare_start: bool = False) -> str:
    out = []
    if start is not None:
        out.append(("" if bare_start else "from ") + str(start))
    if end is not None:
        out.append(f"through {end}")
    return " ".join(out)


def fmt_operand(o: A.Ref | A.Lit) -> str:
    if isinstance(o, A.Ref):
        return o.name
    v = o.value
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, A.Number):
        return format_number(v.value, v.notation)
    return q(v)


def fmt_expr(e: A.Expr, parent: str = "") -> str:
    if isinstance(e, A.Compare):
        return f"{fmt_operand(e.left)} {e.op} {fmt_operand(e.right)}"
    if isinstance(e, A.InSet):
        return f"{fmt_operand(e.left)} in {{{', '.join(fmt_operand(v) for v in e.values)}}}"
    if isinstance(e, A.InGroup):
        return f"{fmt_operand(e.left)} in group {e.group}"
    if isinstance(e, A.Meets):
        return f"meets {e.eccn}"
    if isinstance(e, A.Truth):
        return fmt_operand(e.operand)
    if isinstance(e, A.Not):
        inner = fmt_expr(e.item, "not")
        return f"not {inner}"
    word = "and" if isinstance(e, A.And) else "or"
    s = f" {word} ".join(fmt_expr(i, word) for i in e.items)
    return f"({s})" if parent else s


def fmt_expr_block(e: A.Expr, prefix: str, suffix: str, indent: str) -> str:
    """``prefix + expr + suffix`` on one line, or broken at the top-level and/or when too long."""
    one = _join(prefix + fmt_expr(e), suffix)
    # the width test ignores the citation suffix: a long citation must not break a short condition
    if len(indent) + len(prefix) + len(fmt_expr(e)) <= MAX_WIDTH or not isinstance(e, A.And | A.Or):
        return indent + one
    word = "and" if isinstance(e, A.And) else "or"
    inner = indent + INDENT * 2
    lines = [indent + prefix + "("]
    for i, item in enumerate(e.items):
        lines.append(inner + ("" if i == 0 else word + " ") + fmt_expr(item, word))
    lines.append(indent + INDENT + _join(")", suffix))
    return "\n".join(lines)


def fmt_dest(d: A.DestSet) -> str:
    s = "all" if d.all else ", ".join(d.include)
    if d.exclude:
        s += " except " + ", ".join(d.exclude)
    return s


def _with_comments(node: A.Node, body: str, indent: str) -> list[str]:
    out = [indent + "# " + c if c else indent + "#" for c in node.comments]
    if node.trailing_comment is not None:
        # on the last physical line: earlier lines of a broken condition are inside an open '('
        body += "  # " + node.trailing_comment if node.trailing_comment else "  #"
    out.append(body)
    return out


def _effective(e: A.Dated) -> str:
    return _join("effective", fmt_window(e.start, e.end, bare_start=True), fmt_cite(e.cite))


def _status(ev: A.StatusEvent) -> str:
    return _join("status", ev.kind, fmt_window(ev.start, ev.end), fmt_cite(ev.cite))


def format_decl(d: A.Decl) -> str:
    ind = INDENT
    lines: list[str] = []

    def clause(node: A.Node | str, text: str) -> None:
        """A clause line with its comments: a node's own, or a one-value clause's (keyed by keyword)."""
        if isinstance(node, str):
            cc = getattr(d, "clause_comments", {}).get(node)
            if cc is None:
                lines.append(ind + text)
                return
            lines.extend(ind + "# " + c if c else ind + "#" for c in cc.leading)
            trailing = "" if cc.trailing is None else ("  # " + cc.trailing if cc.trailing else "  #")
            lines.append(ind + text + trailing)
        else:
            lines.extend(_with_comments(node, ind + text, ind))

    if isinstance(d, A.DocumentDecl):
        head = f"document {d.id}"
        if d.kind != "fr_rule" or "kind" in d.clause_comments:
            clause("kind", f"kind {d.kind}")
        if d.citation is not None:
            clause("citation", f"citation {q(d.citation)}")
        if d.published is not None:
            clause("published", f"published {d.published}")
        for fname in ("title", "action"):
            v = getattr(d, fname)
            if v is not None:
                clause(fname, f"{fname} {q(v)}")
        if d.rin:
            clause("rin", "rin " + ", ".join(d.rin))
        for fname in ("docket", "url"):
            v = getattr(d, fname)
            if v is not None:
                clause(fname, f"{fname} {q(v)}")
        for fname in ("corrects", "suspends"):
            v = getattr(d, fname)
            if v is not None:
                clause(fname, f"{fname} {v}")
        if d.confidence is not None:
            clause("confidence", f"confidence {d.confidence}")
        if d.note is not None:
            clause("note", f"note {q(d.note)}")
        for dd in d.dates:
            clause(dd, _join(dd.kind, str(dd.date), f"through {dd.end}" if dd.end else "",
                             f"scope {q(dd.scope)}" if dd.scope is not None else "", fmt_cite(dd.cite)))
        for ev in d.statuses:
            clause(ev, _status(ev))
    elif isinstance(d, A.UnitDecl):
        head = _join(f"unit {d.name}", q(d.description) if d.description is not None else "")
    elif isinstance(d, A.KindDecl):
        head = _join(f"kind {d.name}", q(d.description) if d.description is not None else "")
    elif isinstance(d, A.AttributeDecl):
        head = _join(f"attribute {d.name} {d.type}", f"unit {d.unit}" if d.unit else "",
                     "of " + ", ".join(d.kinds) if d.kinds else "",
                     "default " + fmt_operand(A.Lit(value=d.default)) if d.default is not None else "",
                     q(d.description) if d.description is not None else "")
    elif isinstance(d, A.ParameterDecl):
        head = _join(f"parameter {d.name} unit {d.unit}", f"role {d.role}" if d.role != "control" else "",
                     q(d.description) if d.description is not None else "")
        for pv in d.values:
            val = "end" if pv.value is None else format_number(pv.value.value, pv.value.notation)
            clause(pv, _join(f"from {pv.start} {val}", fmt_cite(pv.cite)))
    elif isinstance(d, A.GroupDecl):
        head = _join(f"group {d.name}", q(d.description) if d.description is not None else "")
        for m in d.members:
            clause(m, _join(f"from {m.start}" if m.start else "", m.op, ", ".join(m.members),
                            f"through {m.end}" if m.end else "", fmt_cite(m.cite)))
    elif isinstance(d, A.ExceptionDecl):
        head = _join(f"exception {d.code}", q(d.title) if d.title is not None else "")
        if d.section is not None:
            clause("section", f"section {q(d.section)}")
        if d.effective is not None:
            clause(d.effective, _effective(d.effective))
        for ev in d.statuses:
            clause(ev, _status(ev))
    elif isinstance(d, A.ControlDecl):
        head = _join(f"control {d.eccn}", q(d.title) if d.title is not None else "")
        if d.applies_to:
            clause("applies", "applies to " + ", ".join(d.applies_to))
        if d.when is not None:
            lines.extend(_with_comments(d.when, fmt_expr_block(d.when, "when ", fmt_cite(d.when_cite), ind), ind))
        for ex in d.exclusions:
            block = fmt_expr_block(ex.when, "except when ", fmt_cite(ex.cite), "")
            lines.extend(_with_comments(ex, "\n".join(ind + ln for ln in block.split("\n")), ind))
        if d.reasons:
            clause("reason", "reason " + ", ".join(d.reasons))
        if d.effective is not None:
            clause(d.effective, _effective(d.effective))
        if d.compliance is not None:
            clause(d.compliance, _join(f"compliance {d.compliance.start}", fmt_cite(d.compliance.cite)))
        for lr in d.licenses:
            clause(lr, _join("license required to", fmt_dest(lr.dest), fmt_window(lr.start, lr.end),
                             fmt_cite(lr.cite)))
        for p in d.policies:
            clause(p, _join(f"policy {p.name} to", fmt_dest(p.dest),
                            "when " + fmt_expr(p.when) if p.when is not None else "",
                            fmt_window(p.start, p.end), fmt_cite(p.cite)))
        for ec in d.exceptions:
            clause(ec, _join("exceptions " + ", ".join(ec.codes), fmt_window(ec.start, ec.end), fmt_cite(ec.cite)))
        for ev in d.statuses:
            clause(ev, _status(ev))
    elif isinstance(d, A.AccessDecl):
        head = _join(f"access {d.name}", q(d.title) if d.title is not None else "")
        if d.on:
            clause("on", "on " + ", ".join(d.on))
        if d.actions:
            clause("actions", "actions " + ", ".join(d.actions))
        clause(d.effect, d.effect)
        if d.when is not None:
            lines.extend(_with_comments(d.when, fmt_expr_block(d.when, "when ", "", ind), ind))
        if d.unless is not None:
            lines.extend(_with_comments(d.unless, fmt_expr_block(d.unless, "unless ", "", ind), ind))
        if d.effective is not None:
            clause(d.effective, _effective(d.effective))
    elif isinstance(d, A.HintDecl):
        head = f"hint {d.file_kind} -> {d.asset_kind} " + ", ".join(q(p) for p in d.patterns)
    else:  # pragma: no cover
        raise TypeError(type(d))
    return "\n".join([*_with_comments(d, head, ""), *lines])


def format_rules(rf: A.RulesFile) -> str:
    """The canonical text of a parsed file (one trailing newline)."""
    chunks: list[str] = []
    if rf.title is not None or rf.comments or rf.trailing_comment is not None:
        if rf.comments:  # the file's header comment, separated by a blank line
            chunks.append("\n".join("# " + c if c else "#" for c in rf.comments))
        if rf.title is not None:
            head = f"ruleset {q(rf.title)}"
            if rf.trailing_comment is not None:
                head += "  # " + rf.trailing_comment if rf.trailing_comment else "  #"
            chunks.append(head)
    prev: str | None = None
    for d in rf.decls:
        text = format_decl(d)
        # one-line declarations of the same kind stay together without blank lines between them
        compact = d.decl in ("unit", "kind", "attribute", "hint") and not d.comments
        if compact and prev == d.decl and chunks:
            chunks[-1] += "\n" + text
        else:
            chunks.append(text)
        prev = d.decl
    if rf.end_comments:
        chunks.append("\n".join("# " + c if c else "#" for c in rf.end_comments))
    return "\n\n".join(chunks) + "\n" if chunks else ""
