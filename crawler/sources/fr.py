"""Federal Register API v1 (search + full-text XML) and public-inspection documents, for BIS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from ..context import BadResponse, Context
from ..spec import SourceSpec

# Search results carry only a few fields unless they are asked for (SOURCES.md section 2).
FIELDS = ("document_number", "type", "action", "title", "publication_date", "effective_on", "dates", "citation",
          "cfr_references", "regulation_id_numbers", "docket_ids", "full_text_xml_url", "correction_of",
          "corrections", "comments_close_on", "abstract", "agencies", "html_url", "pdf_url", "start_page",
          "end_page", "signing_date", "subtype")
XML_ROOTS = ("RULE", "PRORULE", "NOTICE", "PRESDOCU", "CORRECT", "RULES", "FEDREG")
REQUIRED = ("document_number", "publication_date")


def start(ctx: Context) -> Iterator[Any]:
    since = ctx.since.isoformat() if ctx.since else (ctx.cursor() or str(ctx.options["since"]))
    params: list[tuple[str, str]] = [
        ("conditions[agencies][]", str(ctx.options["agency"])),
        ("conditions[publication_date][gte]", since),
        ("order", "oldest"),
        ("per_page", str(ctx.options["per_page"])),
        *(("fields[]", f) for f in FIELDS),
    ]
    ctx.note("fr_since", since)
    yield ctx.fetch(f"{ctx.base_url}/api/v1/documents.json?{urlencode(params)}", parse_search, kind="json")
    if ctx.options["public_inspection"]:
        yield ctx.fetch(f"{ctx.base_url}/api/v1/public-inspection-documents/current.json", parse_public_inspection,
                        kind="json")


def parse_search(ctx: Context, response: Any) -> Iterator[Any]:
    data = ctx.json(response)
    if not isinstance(data, dict) or "count" not in data or not isinstance(data.get("results", []), list):
        raise BadResponse("not a Federal Register search envelope (expected 'count' and a 'results' list)")
    ctx.notes["fr_search_pages"] = int(ctx.notes.get("fr_search_pages", 0)) + 1
    results = data.get("results") or []
    for i, r in enumerate(results):
        if not isinstance(r, dict) or any(not r.get(k) for k in REQUIRED):
            ctx.fail(response.url, f"search result {i} lacks {', '.join(REQUIRED)}")
            continue
        docnum = str(r["document_number"])
        xml_url = r.get("full_text_xml_url")
        if xml_url:
            yield ctx.fetch(str(xml_url), parse_document_xml, kind="xml", meta={"fr_result": r})
        else:  # older or unusual documents: keep the API record itself
            body = json.dumps(r, sort_keys=True, indent=1).encode()
            yield ctx.emit(docnum, response, {"api": r, "format": "api-json"}, body=body,
                           cursor=str(r["publication_date"]))
    nxt = data.get("next_page_url")
    if nxt:
        yield ctx.fetch(str(nxt), parse_search, kind="json")


def parse_document_xml(ctx: Context, response: Any) -> Iterator[Any]:
    r = response.meta["fr_result"]
    root = ctx.xml(response, XML_ROOTS)
    frdoc = " ".join(root.xpath("string(.//FRDOC)").split()) if root.tag != "FEDREG" else ""
    meta = {"api": r, "format": "fr-xml", "xml_root": root.tag, "frdoc": frdoc or None}
    if frdoc and str(r["document_number"]) not in frdoc:
        meta["warning"] = f"FRDOC line '{frdoc}' does not name {r['document_number']}"
    yield ctx.emit(str(r["document_number"]), response, meta, cursor=str(r["publication_date"]))


def parse_public_inspection(ctx: Context, response: Any) -> Iterator[Any]:
    data = ctx.json(response)
    if not isinstance(data, dict) or not isinstance(data.get("results", []), list):
        raise BadResponse("not a public-inspection envelope (expected a 'results' list)")
    slug = str(ctx.options["agency"])
    for r in data.get("results") or []:
        if not isinstance(r, dict) or not r.get("document_number"):
            continue
        agencies = r.get("agencies") or []
        names = " ".join(str(n) for n in (r.get("agency_names") or []))
        if not any(isinstance(a, dict) and a.get("slug") == slug for a in agencies) \
                and "Industry and Security" not in names:
            continue
        body = json.dumps(r, sort_keys=True, indent=1).encode()
        yield ctx.emit(f"public-inspection/{r['document_number']}", response,
                       {"api": r, "format": "public-inspection-json"}, body=body)


SOURCE = SourceSpec(
    name="fr",
    title="Federal Register API v1 and full-text XML (BIS documents)",
    default_base_url="https://www.federalregister.gov",
    schedule="15 9 * * 1-5",
    start=start,
    default_options={"since": "2022-10-01", "agency": "industry-and-security-bureau", "per_page": 1000,
                     "public_inspection": True},
    assertions=(("the search returned a valid envelope", lambda s: int(s["notes"].get("fr_search_pages", 0)) > 0),),
)
