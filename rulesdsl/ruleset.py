"""A ruleset: one or more parsed ``.rules`` files with indexes, validation and the reference semantics.

``Ruleset`` is the library entry point; each CLI command wraps one call on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from . import ast as A
from .errors import Diagnostic, DslError
from .formatter import format_rules
from .intervals import in_window
from .parser import parse_file, parse_text

if TYPE_CHECKING:
    from .hints import HintMatch
    from .semantics import AssetLike, Classification, Decision, SubjectLike
    from .timeline import Timeline

DEFAULT_RULES_PACKAGE = "rulesdsl.default"
FILE_MARKER = "#@file "


@dataclass
class Ruleset:
    files: list[tuple[str, A.RulesFile]]
    documents: dict[str, A.DocumentDecl] = field(default_factory=dict)
    units: dict[str, A.UnitDecl] = field(default_factory=dict)
    kinds: dict[str, A.KindDecl] = field(default_factory=dict)
    attributes: dict[str, A.AttributeDecl] = field(default_factory=dict)
    parameters: dict[str, A.ParameterDecl] = field(default_factory=dict)
    groups: dict[str, A.GroupDecl] = field(default_factory=dict)
    exceptions: dict[str, A.ExceptionDecl] = field(default_factory=dict)
    controls: list[A.ControlDecl] = field(default_factory=list)
    access: list[A.AccessDecl] = field(default_factory=list)
    hints: list[A.HintDecl] = field(default_factory=list)
    duplicates: list[tuple[A.Node, str]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # file label -> text, for diagnostics
    # ECCN or any dotted prefix of it (3A090, 3A090.a) -> its control versions; built by from_files
    by_prefix: dict[str, list[A.ControlDecl]] = field(default_factory=dict)

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def from_files(cls, files: Sequence[tuple[str, A.RulesFile]]) -> Ruleset:
        rs = cls(files=list(files))
        for _name, rf in files:
            for d in rf.decls:
                rs._index(d)
        for c in rs.controls:
            parts = c.eccn.split(".")
            for i in range(1, len(parts) + 1):
                rs.by_prefix.setdefault(".".join(parts[:i]), []).append(c)
        return rs

    def _index(self, d: A.Decl) -> None:
        def put(table: dict[str, A.Node], key: str, what: str) -> None:
            if key in table:
                self.duplicates.append((d, f"duplicate {what} '{key}' (first declared at {table[key].loc})"))
            else:
                table[key] = d

        if isinstance(d, A.DocumentDecl):
            put(self.documents, d.id, "document")  # type: ignore[arg-type]
        elif isinstance(d, A.UnitDecl):
            put(self.units, d.name, "unit")  # type: ignore[arg-type]
        elif isinstance(d, A.KindDecl):
            put(self.kinds, d.name, "kind")  # type: ignore[arg-type]
        elif isinstance(d, A.AttributeDecl):
            put(self.attributes, d.name, "attribute")  # type: ignore[arg-type]
        elif isinstance(d, A.ParameterDecl):
            put(self.parameters, d.name, "parameter")  # type: ignore[arg-type]
        elif isinstance(d, A.GroupDecl):
            put(self.groups, d.name, "group")  # type: ignore[arg-type]
        elif isinstance(d, A.ExceptionDecl):
            put(self.exceptions, d.code, "license exception")  # type: ignore[arg-type]
        elif isinstance(d, A.ControlDecl):
            self.controls.append(d)
        elif isinstance(d, A.AccessDecl):
            if any(a.name == d.name for a in self.access):
                self.duplicates.append((d, f"duplicate access rule '{d.name}'"))
            self.access.append(d)
        elif isinstance(d, A.HintDecl):
            self.hints.append(d)

    @classmethod
    def from_text(cls, text: str, file: str = "<rules>") -> Ruleset:
        rs = cls.from_files([(file, parse_text(text, file))])
        rs.sources[file] = text
        return rs

    @classmethod
    def load(cls, path: str | Path, *, validate: bool = True) -> Ruleset:
        """Load a ``.rules`` file, a directory of them (sorted by name) or a bundle text written by
        :meth:`bundle_text`. Raises :class:`DslError` with every problem found."""
        p = Path(path)
        if p.is_dir():
            paths = sorted(p.glob("*.rules"))
            if not paths:
                raise DslError([Diagnostic(str(p), 0, 0, "no .rules files in this directory")])
        elif p.exists():
            paths = [p]
        else:
            raise DslError([Diagnostic(str(p), 0, 0, "no such file or directory")])
        parsed: list[tuple[str, A.RulesFile]] = []
        errors: list[Diagnostic] = []
        for f in paths:
            try:
                parsed.append((f.name, parse_file(f)))
            except DslError as e:
                errors.extend(e.diagnostics)
        if errors:
            raise DslError(errors)
        rs = cls.from_files(parsed)
        if validate:
            rs.check()
        return rs

    @classmethod
    def from_bundle(cls, text: str, origin: str = "<bundle>", *, validate: bool = True) -> Ruleset:
        """Inverse of :meth:`bundle_text` (how versions are kept in the store)."""
        parts = split_bundle(text)
        parsed: list[tuple[str, A.RulesFile]] = []
        errors: list[Diagnostic] = []
        for name, body in parts:
            try:
                parsed.append((name, parse_text(body, f"{origin}:{name}")))
            except DslError as e:
                errors.extend(e.diagnostics)
        if errors:
            raise DslError(errors)
        rs = cls.from_files(parsed)
        rs.sources.update({f"{origin}:{name}": body for name, body in parts})
        if validate:
            rs.check()
        return rs

    @classmethod
    def default(cls) -> Ruleset:
        """The embedded default ruleset (real BIS advanced-computing and AI controls, cited)."""
        return cls.from_bundle(default_bundle_text(), "default")

    # -- canonical text ------------------------------------------------------------------------------
    def bundle_text(self) -> str:
        """Canonical text of the whole ruleset: each file formatted, behind a ``#@file NAME`` marker."""
        return "".join(f"{FILE_MARKER}{name}\n{format_rules(rf)}" for name, rf in self.files)

    def content_hash(self) -> str:
        return hashlib.sha256(self.bundle_text().encode()).hexdigest()

    # -- validation ----------------------------------------------------------------------------------
    def diagnostics(self) -> list[Diagnostic]:
        from .validate import validate

        return validate(self)

    def check(self) -> list[Diagnostic]:
        """Validate; raise :class:`DslError` on errors, return warnings."""
        diags = self.diagnostics()
        errors = [d for d in diags if d.level == "error"]
        if errors:
            raise DslError(errors)
        return diags

    # -- lookups -------------------------------------------------------------------------------------
    def controls_for(self, eccn: str) -> list[A.ControlDecl]:
        """Every version of the controls of ``eccn`` and of its sub-paragraphs (3A090 -> 3A090.a, ...)."""
        return list(self.by_prefix.get(eccn, ()))

    def eccn_known(self, eccn: str) -> bool:
        return eccn in self.by_prefix

    def param_value(self, name: str, at: dt.date) -> Decimal | None:
        p = self.parameters.get(name)
        if p is None:
            return None
        current: Decimal | None = None
        for v in sorted(p.values, key=lambda v: v.start):
            if v.start <= at:
                current = None if v.value is None else v.value.value
        return current

    def param_entry(self, name: str, at: dt.date) -> A.ParamValue | None:
        p = self.parameters.get(name)
        current: A.ParamValue | None = None
        for v in sorted(p.values if p else [], key=lambda v: v.start):
            if v.start <= at:
                current = v
        return current if current is not None and current.value is not None else None

    def group_members(self, name: str, at: dt.date, _seen: frozenset[str] = frozenset()) -> frozenset[str]:
        """ISO codes in group ``name`` on ``at``. Members may themselves be groups (expanded)."""
        g = self.groups.get(name)
        if g is None or name in _seen:
            return frozenset()
        members: set[str] = set()
        for m in sorted(g.members, key=lambda m: m.start or dt.date.min):
            if not in_window(at, m.start, m.end):
                continue
            expanded: set[str] = set()
            for item in m.members:
                if item in self.groups:
                    expanded |= self.group_members(item, at, _seen | {name})
                else:
                    expanded.add(item)
            if m.op == "add":
                members |= expanded
            else:
                members -= expanded
        return frozenset(members)

    def in_dest(self, dest: A.DestSet, country: str, at: dt.date) -> bool:
        def hit(items: Iterable[str]) -> bool:
            return any(i == country or country in self.group_members(i, at) for i in items)

        return (dest.all or hit(dest.include)) and not hit(dest.exclude)

    def citation(self, cite: A.Cite | None) -> str:
        """Human citation, e.g. ``90 FR 4544 (FR Doc. 2025-00636)``."""
        if cite is None or not cite.docs:
            return "uncited"
        parts = []
        for doc_id in cite.docs:
            doc = self.documents.get(doc_id)
            if doc is not None and doc.citation:
                parts.append(f"{doc.citation} (FR Doc. {doc_id})" if doc.kind.startswith("fr_") else
                             f"{doc.citation} ({doc_id})")
            elif doc is not None and doc.title:
                parts.append(f"{doc.title} ({doc_id})")
            else:
                parts.append(doc_id)
        out = "; ".join(parts)
        if cite.at:
            out += f", {cite.at}"
        return out

    # -- semantics (reference implementation; see semantics.py) -------------------------------------
    def as_of(self, at: dt.date) -> RulesetView:
        return RulesetView(self, at)

    def asset_problem(self, asset: AssetLike) -> str | None:
        """Why the rules cannot classify ``asset`` as given, in one line: an unknown kind, or a declared
        attribute with a value of the wrong type ("training_operations: abc" would otherwise only make the
        conditions unknown). Attributes the rules do not declare are the inventory's own business."""
        from .errors import did_you_mean

        if asset.kind not in self.kinds:
            return (f"asset '{asset.id}': unknown kind '{asset.kind}'{did_you_mean(asset.kind, self.kinds)}; "
                    f"the rules know: {', '.join(sorted(self.kinds))}")
        for name, value in asset.attributes.items():
            decl = self.attributes.get(name)
            if decl is None:
                continue
            ok = {"number": isinstance(value, Decimal) and not isinstance(value, bool),
                  "bool": isinstance(value, bool), "string": isinstance(value, str)}[decl.type]
            if not ok:
                return f"asset '{asset.id}': attribute '{name}' must be a {decl.type}, got {value!r}"
        return None

    def classify(self, asset: AssetLike, at: dt.date) -> Classification:
        from .semantics import classify

        return classify(self, asset, at)

    def decide(self, subject: SubjectLike, action: str, asset: AssetLike, at: dt.date,
               destination: str | None = None, *, strict: bool = False) -> Decision:
        from .semantics import decide

        return decide(self, subject, action, asset, at, destination, strict=strict)

    def classify_paths(self, paths: Iterable[str]) -> dict[str, HintMatch]:
        """Which files of a repository tree are weights, checkpoints, ... (docs: rulesdsl/hints.py)."""
        from .hints import classify_paths

        return classify_paths(self.hints, paths)

    def timeline(self, name: str) -> Timeline:
        from .timeline import timeline

        return timeline(self, name)

    def dates(self) -> list[dt.date]:
        """Every date the ruleset mentions (for boundary tests and timeline targets), sorted, unique."""
        out: set[dt.date] = set()

        def add(*ds: dt.date | None) -> None:
            out.update(d for d in ds if d is not None)

        for doc in self.documents.values():
            add(doc.published)
            for dd in doc.dates:
                add(dd.date, dd.end)
            for ev in doc.statuses:
                add(ev.start, ev.end)
        for p in self.parameters.values():
            add(*(v.start for v in p.values))
        for g in self.groups.values():
            for m in g.members:
                add(m.start, m.end)
        for x in self.exceptions.values():
            if x.effective:
                add(x.effective.start, x.effective.end)
            for ev in x.statuses:
                add(ev.start, ev.end)
        for c in self.controls:
            for dated in [c.effective, c.compliance, *c.licenses, *c.policies, *c.exceptions, *c.statuses]:
                if dated is not None:
                    add(dated.start, dated.end)
        for a in self.access:
            if a.effective:
                add(a.effective.start, a.effective.end)
        return sorted(out)


@dataclass
class RulesetView:
    """The rules as they stand on one date (valid time)."""

    ruleset: Ruleset
    at: dt.date

    def controls(self) -> list[A.ControlDecl]:
        return [c for c in self.ruleset.controls
                if c.effective is not None and in_window(self.at, c.effective.start, c.effective.end)]

    def parameters(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for name in self.ruleset.parameters:
            v = self.ruleset.param_value(name, self.at)
            if v is not None:
                out[name] = v
        return out

    def groups(self) -> dict[str, list[str]]:
        return {name: sorted(self.ruleset.group_members(name, self.at)) for name in self.ruleset.groups}


def split_bundle(text: str) -> list[tuple[str, str]]:
    """``#@file NAME`` sections of a bundle; text without markers is one file ``rules.rules``."""
    if not text.startswith(FILE_MARKER):
        return [("rules.rules", text)]
    parts: list[tuple[str, str]] = []
    for chunk in text.split("\n" + FILE_MARKER):
        chunk = chunk.removeprefix(FILE_MARKER)
        name, _, body = chunk.partition("\n")
        parts.append((name.strip(), body if body.endswith("\n") or not body else body + "\n"))
    return parts


def default_rules_files() -> list[tuple[str, str]]:
    pkg = resources.files(DEFAULT_RULES_PACKAGE)
    items = sorted((p.name, p.read_text(encoding="utf-8")) for p in pkg.iterdir() if p.name.endswith(".rules"))
    return items


def default_bundle_text() -> str:
    return "".join(f"{FILE_MARKER}{name}\n{body}" for name, body in default_rules_files())
