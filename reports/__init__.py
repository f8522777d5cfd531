"""Reports: what changed in the rules between two points in time (valid time or knowledge time), which assets
get reclassified and from when, access changes, assets near a threshold and upcoming dates (docs/reports.md).

::

    sides (FROM/TO) ──> rule_changes (snapshot per change date | knowledge) ─────┐
    inventory (streamed) ──> reclassify ──> access ──────────────────────────────┼─> diff.build_diff ─> model
    upcoming (timelines after TO) ───────────────────────────────────────────────┘      render: md | html | json
"""
