"""Compiler: lowers the rules to one IR that every target reads.

    crawler/ -> extraction -> rulesdsl/ (versioned rules) -> compiler/ (IR) -> targets/ (Casbin, Rego,
    git hooks, constants)

Not built yet: see the compiler issue. ``rulesdsl.semantics`` is the reference every target must match.
"""
