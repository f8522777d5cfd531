"""eCFR versioner: version lists of 15 CFR parts and the XML of each part as of its latest version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..context import BadResponse, Context
from ..spec import SourceSpec

XML_ROOTS = ("ECFR", "DIV1", "DIV3", "DIV4", "DIV5", "DIV6", "DIV8", "DIV9")


def start(ctx: Context) -> Iterator[Any]:
    title = int(ctx.options["title"])
    for part in ctx.options["parts"]:
        yield ctx.fetch(f"{ctx.base_url}/api/versioner/v1/versions/title-{title}.json?part={int(part)}",
                        parse_versions, kind="json", meta={"ecfr_part": int(part), "ecfr_title": title})


def parse_versions(ctx: Context, response: Any) -> Iterator[Any]:
    part, title = response.meta["ecfr_part"], response.meta["ecfr_title"]
    data = ctx.json(response)
    versions = data.get("content_versions") if isinstance(data, dict) else None
    if not isinstance(versions, list):
        raise BadResponse("not an eCFR versions envelope (expected a 'content_versions' list)")
    dates = sorted({str(v["date"]) for v in versions if isinstance(v, dict) and v.get("date")})
    doc_id = f"title-{title}/part-{part}/versions"
    previous = ctx.previous(doc_id)
    known = set(previous.get("dates", [])) if previous else set()
    new = [d for d in dates if d not in known] if previous else []
    if new:
        ctx.notes.setdefault("ecfr_new_versions", {})[str(part)] = new
    yield ctx.emit(doc_id, response, {"title": title, "part": part, "dates": dates, "new_since_last_run": new,
                                      "format": "ecfr-versions-json"})
    as_of = str(ctx.options.get("as_of") or "") or (dates[-1] if dates else "")
    if as_of:
        yield ctx.fetch(f"{ctx.base_url}/api/versioner/v1/full/{as_of}/title-{title}.xml?part={part}",
                        parse_part_xml, kind="xml", meta={"ecfr_part": part, "ecfr_title": title, "ecfr_date": as_of})


def parse_part_xml(ctx: Context, response: Any) -> Iterator[Any]:
    part, title, date = response.meta["ecfr_part"], response.meta["ecfr_title"], response.meta["ecfr_date"]
    root = ctx.xml(response, XML_ROOTS)
    yield ctx.emit(f"title-{title}/part-{part}@{date}", response,
                   {"title": title, "part": part, "as_of": date, "xml_root": root.tag, "format": "ecfr-xml"})


SOURCE = SourceSpec(
    name="ecfr",
    title="eCFR versioner: 15 CFR parts 734, 740, 742, 744, 774",
    default_base_url="https://www.ecfr.gov",
    schedule="30 9 * * 1-5",
    start=start,
    default_options={"title": 15, "parts": [734, 740, 742, 744, 774], "as_of": ""},
)
