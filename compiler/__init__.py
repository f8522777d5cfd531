"""Compiler: lowers the rules to one IR that every target reads.

::

    crawler/           Federal Register, eCFR, BIS pages (fetched, hashed, watched)
       |
    extraction/        facts with quotes: ECCNs, thresholds, dates, country groups
       |  (human review)
    rulesdsl/          versioned .rules (store.py: rules version id); semantics.py = the reference meaning
       |  compiler/lowering.py  (the only reader of the DSL AST)
    compiler/ir.py     IR: one slice = the rules resolved for a span of days; Timeline = all slices
       |  compiler/evaluate.py  (reference evaluator of the IR, the template for targets)
    targets/           Casbin, OPA Rego bundle, git hooks, FLOP-limit constants (one module each)

Public API::

    from compiler import lower, lower_timeline, ir_classify, ir_decide, ir_classify_paths

    ir = lower(ruleset, as_of=date(2025, 6, 1), rules_version=vid, strict=False)   # -> IR
    tl = lower_timeline(ruleset, rules_version=vid, strict=False)                  # -> Timeline
    tl.slice_at(date(2025, 6, 1))                                                  # -> IR
    ir.to_json() / IR.from_json(text)              # byte-deterministic, exact numbers as decimal strings
    ir_decide(ir, subject, action, asset, destination=None, at=None)   # = rulesdsl.semantics.decide
    ir_classify(ir, asset)                                              # = rulesdsl.semantics.classify
    ir_classify_paths(ir, paths)                                        # = rulesdsl.hints.classify_paths

The IR is documented in ``docs/compiler.md``; ``ir.diagnostics`` lists what a target may be unable to express
(level ``ignore`` / ``warn`` / ``error``, with the rule and its ``file:line:col``).
"""

from __future__ import annotations

from .evaluate import Classification, Decision, ir_classify, ir_classify_paths, ir_decide
from .ir import IR, Diagnostic, Timeline, lower, lower_timeline

__all__ = [
    "IR",
    "Classification",
    "Decision",
    "Diagnostic",
    "Timeline",
    "ir_classify",
    "ir_classify_paths",
    "ir_decide",
    "lower",
    "lower_timeline",
]
