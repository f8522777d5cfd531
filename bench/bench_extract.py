"""Extraction throughput on a large FR document, as a ratio to a bare lxml parse of the same bytes.

The document is built from the 2023-23055 fixture (the October 2023 advanced-computing rule): its REGTEXT
sections are repeated with renumbered amendatory instructions until the XML is several hundred KB with
dozens of instructions, so the extractor sees the real shapes at scale. Both are measured in this run
(median of N after a warm-up that also loads spaCy). Target: extraction <= 5x the bare parse.

Usage: ``python bench/bench_extract.py [--copies 40] [--repeat 7] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction.document import extract_xml_bytes  # noqa: E402

FIXTURE = ROOT / "fixtures/http/fr/documents/full_text/xml/2023/10/25/2023-23055.xml"


def build(copies: int) -> bytes:
    root = etree.fromstring(FIXTURE.read_bytes())
    regtexts = list(root.iter("REGTEXT"))
    parent = regtexts[-1].getparent()
    anchor = parent.index(regtexts[-1]) + 1
    n = 100
    for _ in range(copies):
        for rt in regtexts:
            dup = copy.deepcopy(rt)
            for amd in dup.iter("AMDPAR"):
                if amd.text and amd.text[:1].isdigit():
                    amd.text = f"{n}." + amd.text.split(".", 1)[1]
                    n += 1
            parent.insert(anchor, dup)
            anchor += 1
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def median_time(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--copies", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", dest="json_out", default=None)
    args = ap.parse_args(argv)
    data = build(args.copies)
    instructions = data.count(b"<AMDPAR")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    result = extract_xml_bytes(data, "bench")[0]  # warm-up (loads spaCy, builds matchers)
    base = median_time(lambda: etree.fromstring(data, parser=parser), args.repeat)
    from extraction import ccl

    def cold_extract() -> None:  # no memo carried over from the warm-up or an earlier repetition
        ccl._parse_instruction_cached.cache_clear()
        extract_xml_bytes(data, "bench")

    subject = median_time(cold_extract, args.repeat)
    res = {"xml_kb": round(len(data) / 1024), "instructions": instructions,
           "eccn_changes": len(result.eccn_changes), "thresholds": len(result.thresholds),
           "bare_parse_s": round(base, 4), "extract_s": round(subject, 4), "ratio": round(subject / base, 2),
           "target_ratio": 5}
    print(f"extraction benchmark: {res['xml_kb']} KB, {instructions} amendatory instructions, median of "
          f"{args.repeat}", file=sys.stderr)
    print(f"  bare lxml parse  {base:8.4f} s", file=sys.stderr)
    print(f"  regwatch extract {subject:8.4f} s  ratio {res['ratio']}x (target <= 5x)", file=sys.stderr)
    if args.json_out:
        text = json.dumps(res, indent=2)
        print(text) if args.json_out == "-" else Path(args.json_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
