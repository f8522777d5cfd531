"""Extraction throughput on a large FR document, as a ratio to a bare lxml parse of the same bytes.

The document is built from the 2023-23055 fixture (the October 2023 advanced-computing rule): its REGTEXT
sections are repeated with renumbered amendatory instructions until the XML is several hundred KB with
dozens of instructions, so the extractor sees the real shapes at scale. Both are measured in this run,
interleaved (parse, extract, parse, extract, ...) so that a burst of load from other processes on a shared
machine hits both; the medians are compared, in wall-clock time (``ratio``) and in CPU time of this process
(``cpu_ratio``, less sensitive to other processes). Target: extraction <= 5x the bare parse.

The copies repeat the same paragraphs, and the extractor reads an identical instruction body or paragraph
only once per document. ``--distinct`` makes every copy's paragraphs unique (a marker is appended), which
measures the cost of a large document without repetition.

``--file PATH`` measures any FR XML file instead (a real daily issue, a large rule fetched with ``regwatch
crawl``): the same ratio on a real document, where most of the bytes are preamble prose.

Usage: ``python bench/bench_extract.py [--copies 40] [--repeat 9] [--distinct] [--file PATH] [--stages]
[--profile] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction.document import extract_xml_bytes  # noqa: E402

FIXTURE = ROOT / "fixtures/http/fr/documents/full_text/xml/2023/10/25/2023-23055.xml"


def _mark(el: Any, marker: str) -> None:
    """Append ``marker`` to the text of a paragraph (after its last child, if it has children)."""
    if len(el):
        el[-1].tail = (el[-1].tail or "") + marker
    else:
        el.text = (el.text or "") + marker


def _insert_copies(parent: Any, anchor: int, regtexts: list[Any], copies: int, distinct: bool) -> None:
    """Insert ``copies`` copies of ``regtexts`` into ``parent`` at ``anchor``, their amendatory instructions
    renumbered from 100 (and every paragraph made unique with ``distinct``)."""
    n = 100
    for c in range(copies):
        for rt in regtexts:
            dup = copy.deepcopy(rt)
            for amd in dup.iter("AMDPAR"):
                if amd.text and amd.text[:1].isdigit():
                    amd.text = f"{n}." + amd.text.split(".", 1)[1]
                    n += 1
            if distinct:
                for p in dup.iter("P", "FP"):
                    _mark(p, f" [copy {c}]")
            parent.insert(anchor, dup)
            anchor += 1


def build(copies: int, distinct: bool = False) -> bytes:
    root = etree.fromstring(FIXTURE.read_bytes())
    regtexts = list(root.iter("REGTEXT"))
    parent = regtexts[-1].getparent()
    _insert_copies(parent, parent.index(regtexts[-1]) + 1, regtexts, copies, distinct)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def add_ccl(data: bytes, copies: int) -> bytes:
    """``data`` (an FR XML file) with ``copies`` distinct copies of the fixture's regulatory text (parts 744
    and 774: instructions, ECCN entries with thresholds, notes) added at the end of the supplementary
    information of its first rule: a real document's preamble and prose with a CCL revision of chosen size."""
    root = etree.fromstring(data)
    rule = next(root.iter("RULE", "PRORULE"), None)
    if rule is None:
        raise SystemExit("--add-ccl: the file has no RULE or PRORULE")
    supl = rule.find("SUPLINF")
    if supl is None:
        supl = etree.SubElement(rule, "SUPLINF")
    regtexts = list(etree.fromstring(FIXTURE.read_bytes()).iter("REGTEXT"))
    _insert_copies(supl, len(supl), regtexts, copies, True)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def interleaved(base: Callable[[], object], subject: Callable[[], object], repeat: int
                ) -> tuple[list[float], list[float], list[float], list[float]]:
    """Wall and CPU seconds of ``repeat`` runs of each, alternating."""
    bw: list[float] = []
    bc: list[float] = []
    sw: list[float] = []
    sc: list[float] = []
    for _ in range(repeat):
        for fn, wall, cpu in ((base, bw, bc), (subject, sw, sc)):
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
    return bw, bc, sw, sc


def stages(data: bytes, repeat: int) -> dict[str, float]:
    """CPU milliseconds (minimum over ``repeat`` runs, each on a fresh parse) of each stage of extraction,
    to say where the time goes. Blocks are the REGTEXT paragraphs shared by the three CCL extractors."""
    from extraction import ccl, dates
    from extraction.document import gc_paused, meta_from_xml

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

    def fresh() -> Any:
        ccl.release_blocks()
        ccl._parse_instruction_cached.cache_clear()
        return etree.fromstring(data, parser=parser)

    def blocks_then(fn: Callable[[Any], object]) -> Callable[[Any], object]:
        def run(root: Any) -> None:
            ccl._all_blocks(root)
            fn(root)
        return run

    steps: list[tuple[str, Callable[[Any], object]]] = [
        ("metadata", meta_from_xml), ("dates", lambda r: dates.extract_dates(r, None)),
        ("blocks (XSLT + Python)", ccl._all_blocks),
        ("blocks + ECCN changes", blocks_then(ccl.extract_eccn_changes)),
        ("blocks + thresholds", blocks_then(ccl.extract_thresholds)),
        ("blocks + license exceptions", blocks_then(ccl.extract_license_exceptions))]
    out: dict[str, float] = {}
    times: list[float] = []
    for _ in range(repeat):
        t0 = time.process_time()
        etree.fromstring(data, parser=parser)
        times.append(time.process_time() - t0)
    out["bare lxml parse"] = min(times) * 1000
    for name, fn in steps:
        times = []
        for _ in range(repeat):
            root = fresh()
            with gc_paused():  # as extraction runs (otherwise collections land in whichever stage allocates)
                t0 = time.process_time()
                fn(root)
                times.append(time.process_time() - t0)
        out[name] = min(times) * 1000
    return out


def profile(fn: Callable[[], object], runs: int = 10) -> None:
    import cProfile
    import pstats

    pr = cProfile.Profile()
    for _ in range(runs):
        pr.enable()
        fn()
        pr.disable()
    pstats.Stats(pr, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--copies", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--distinct", action="store_true", help="make every copy's paragraphs unique")
    ap.add_argument("--file", default=None, help="measure this FR XML file instead of the built document")
    ap.add_argument("--add-ccl", type=int, default=0, metavar="N",
                    help="with --file: add N distinct copies of the fixture's regulatory text to its first rule")
    ap.add_argument("--profile", action="store_true", help="cProfile (top 25 by cumulative time) on stderr")
    ap.add_argument("--stages", action="store_true", help="CPU time of each stage (minimum of --repeat runs)")
    ap.add_argument("--json", dest="json_out", default=None)
    args = ap.parse_args(argv)
    data = Path(args.file).read_bytes() if args.file else build(args.copies, args.distinct)
    if args.add_ccl:
        if not args.file:
            ap.error("--add-ccl needs --file")
        data = add_ccl(data, args.add_ccl)
    instructions = data.count(b"<AMDPAR")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    result = extract_xml_bytes(data, "bench")[0]  # warm-up (loads spaCy, builds matchers)
    from extraction import ccl

    def cold_extract() -> None:  # no memo carried over from the warm-up or an earlier repetition
        ccl._parse_instruction_cached.cache_clear()
        extract_xml_bytes(data, "bench")

    bw, bc, sw, sc = interleaved(lambda: etree.fromstring(data, parser=parser), cold_extract, args.repeat)
    base, subject = statistics.median(bw), statistics.median(sw)
    cpu_ratio = statistics.median(sc) / statistics.median(bc)
    res = {"xml_kb": round(len(data) / 1024), "instructions": instructions, "distinct": args.distinct,
           "file": args.file, "add_ccl": args.add_ccl,
           "eccn_changes": len(result.eccn_changes), "thresholds": len(result.thresholds),
           "bare_parse_s": round(base, 4), "extract_s": round(subject, 4), "ratio": round(subject / base, 2),
           "cpu_ratio": round(cpu_ratio, 2), "extract_min_s": round(min(sw), 4),
           "extract_max_s": round(max(sw), 4), "repeat": args.repeat, "target_ratio": 5}
    what = args.file or f"built document{' (distinct paragraphs)' if args.distinct else ''}"
    if args.add_ccl:
        what += f" + {args.add_ccl} distinct copies of the fixture's regulatory text"
    print(f"extraction benchmark: {what}, {res['xml_kb']} KB, {instructions} amendatory instructions, "
          f"median of {args.repeat}, interleaved",
          file=sys.stderr)
    print(f"  bare lxml parse  {base:8.4f} s", file=sys.stderr)
    print(f"  regwatch extract {subject:8.4f} s  ratio {res['ratio']}x wall, {res['cpu_ratio']}x CPU "
          f"(target <= 5x)", file=sys.stderr)
    if args.profile:
        profile(cold_extract)
    if args.stages:
        res["stages_cpu_ms"] = {k: round(v, 2) for k, v in stages(data, max(args.repeat, 15)).items()}
        for name, ms in res["stages_cpu_ms"].items():
            print(f"  {name:<28} {ms:7.2f} ms CPU (min)", file=sys.stderr)
    if args.json_out:
        text = json.dumps(res, indent=2)
        print(text) if args.json_out == "-" else Path(args.json_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
