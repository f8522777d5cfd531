"""Generate docs/cli.md from the commands' own ``--help`` (``python -m regwatch.docgen > docs/cli.md``).

A test checks that the committed file matches, so the reference never drifts from the code.
"""

from __future__ import annotations

import click

from .cli import main


def iter_commands(group: click.Group, prefix: str = "regwatch") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name in sorted(group.commands):
        cmd = group.commands[name]
        full = f"{prefix} {name}"
        out.append((full, cmd))
        if isinstance(cmd, click.Group):
            out.extend(iter_commands(cmd, full))
    return out


def render() -> str:
    parts = ["# CLI reference", "",
             "Generated from `--help` by `python -m regwatch.docgen > docs/cli.md`; do not edit by hand.", "",
             "Exit codes: 0 ok, 1 found something (controlled assets, a denied or licensed decision, tampering,",
             "files that need formatting), 2 usage or input error (one line on stderr, stored data unchanged).", ""]
    entries = [("regwatch", main), *iter_commands(main)]
    for full, cmd in entries:
        with click.Context(cmd, info_name=full, terminal_width=100, max_content_width=100) as ctx:
            text = cmd.get_help(ctx)
        parts += [f"## `{full}`", "", "```", text.rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    click.echo(render(), nl=False)
