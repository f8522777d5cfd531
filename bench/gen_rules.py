"""Generate a large, valid ``.rules`` ruleset for benchmarks.

The text has the shape of the real default ruleset (``rulesdsl/default/*.rules``), only bigger:

* a vocabulary (units, asset kinds, typed attributes with units, classification hints);
* Federal Register documents (citation, published date, title, action, RIN, docket, effective dates with a
  scope, comment periods, some with a suspension or non-enforcement status);
* country groups (the real Supplement No. 1 groups plus synthetic ones with dated ``add``/``remove`` lines);
* license exceptions with sections, effective dates and the odd status;
* parameters with several dated values each (roles ``control``, ``exclusion`` and ``policy_eligibility``;
  values in every notation the DSL accepts: ``4800``, ``5.92``, ``10^26``, ``5 x 10^25``, ``26_900_000``);
* controls, one block per ECCN paragraph version (``3A000.a`` ... ``3A999.d`` then ``3B000.a`` ...): about
  one paragraph in five has two versions, the older one closed with ``effective D through E``, so every
  (ECCN, window) is unique. Each control has ``applies to``, a multi-clause condition (comparisons with
  parameters and literals, ``and``/``or``/``not``, parenthesised groups, multi-line ``when (`` blocks,
  ``in {...}`` sets, ``meets`` references to earlier paragraphs as in 4A090 and the ``.z`` paragraphs),
  exclusions, reasons, ``effective`` and ``compliance``, several dated ``license required`` lines,
  policies (some conditional), ``exceptions`` lines and ``status`` lines, with citations and comments;
* a few deemed-export ``access`` rules over generated ECCNs.

The output is deterministic for a given ``(n_controls, seed)`` and ``Ruleset.from_text(text).check()``
accepts it (warnings such as "parameter ends while the control is in effect" may occur; errors do not).

Usage::

    python bench/gen_rules.py -n 5000 > /tmp/big.rules
    python bench/gen_rules.py -n 500 --check        # generate and validate, print a summary
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import random
import sys
from dataclasses import dataclass

FIRST_DAY = dt.date(2018, 1, 1)
LAST_DAY = dt.date(2026, 10, 31)

UNITS = [
    ("operations", "count of computational operations"),
    ("tpp", "total processing performance"),
    ("tpp_per_mm2", "performance density: TPP per square millimetre of die area"),
    ("gbyte_per_s", "gigabytes per second"),
    ("gb_per_s_per_mm2", "memory bandwidth density"),
    ("bit_tops", "bit length per operation multiplied by TOPS"),
    ("transistors", "aggregated approximated transistor count"),
    ("mm2", "square millimetres"),
    ("watts", "power in watts"),
    ("ghz", "clock frequency in gigahertz"),
    ("nm", "feature size in nanometres"),
    ("bits", "word or key length in bits"),
]

KINDS = [
    ("model", "an AI model, classified by its weights"),
    ("model_weights", "a file or set of files holding the parameters of an AI model"),
    ("checkpoint", "an intermediate or final training checkpoint"),
    ("training_config", "a training configuration"),
    ("hyperparameters", "hyperparameters of a training run"),
    ("ic", "an integrated circuit"),
    ("hbm", "a high bandwidth memory stack"),
    ("computer", "a computer, electronic assembly or component"),
    ("commodity", "another commodity, classified under a base ECCN"),
    ("software", "software, classified under a base ECCN"),
    ("equipment", "production or test equipment"),
    ("technology", "technology for development or production"),
]

# name, unit, kinds, (low, high) magnitude of realistic thresholds
NUM_ATTRS: list[tuple[str, str, str, tuple[float, float]]] = [
    ("tpp", "tpp", "ic, computer, commodity, software", (600, 21000)),
    ("performance_density", "tpp_per_mm2", "ic, computer, commodity, software", (1.0, 12.0)),
    ("io_bandwidth", "gbyte_per_s", "ic, computer", (100, 1600)),
    ("memory_bandwidth_density", "gb_per_s_per_mm2", "hbm, ic", (0.5, 6.0)),
    ("bit_tops", "bit_tops", "ic, computer", (1000, 9600)),
    ("transistors", "transistors", "ic", (1_000_000_000, 80_000_000_000)),
    ("die_area_mm2", "mm2", "ic, computer", (50, 900)),
    ("power_w", "watts", "ic, computer, equipment", (15, 1200)),
    ("clock_ghz", "ghz", "ic, computer", (0.5, 6.0)),
    ("feature_nm", "nm", "ic, equipment, technology", (2, 65)),
    ("key_bits", "bits", "software, commodity, technology", (56, 512)),
    ("dram_bandwidth", "gbyte_per_s", "ic, computer", (500, 8000)),
    ("training_operations", "operations", "model, model_weights, checkpoint", (1e23, 1e27)),
]
NUM_ATTR = {a[0]: a for a in NUM_ATTRS}
BOOL_ATTRS = [
    ("published", "model, model_weights, checkpoint", None, "weights are published (open-weight)"),
    ("below_published_frontier", "model, model_weights, checkpoint", "false",
     "trained with fewer operations than the most capable published model"),
    ("datacenter", "ic, computer, commodity", None, "designed or marketed for use in datacenters"),
    ("radiation_hardened", "ic, computer, equipment", "false", "rated for radiation environments"),
    ("mass_market", "software, commodity", "false", "sold to the public through retail channels"),
]
STR_ATTRS = [
    ("base_eccn", "commodity, software", "ECCN of the item before the .z paragraphs"),
    ("end_use", "ic, computer, equipment, technology", "declared end use"),
]

def _codes(text: str) -> list[str]:
    return text.split()


ISO = _codes("AM AZ BY MM KH GE IR IQ KZ KP KG LA LY MO MD MN RU TJ TM UZ VE VN YE BH EG IL JO KW LB OM PK QA SA "
             "SY AE AF CF CD CU ER HT NI SO SS SD ZW AR AU AT BE BG CA HR CZ DK EE FI FR DE GR HU IS IN IE IT JP "
             "LV LT LU NL NZ NO PL PT RO SK SI KR ES SE CH TR GB AL CY MT SG ZA TW BR MX CL CO PE TH MY ID PH")

REAL_GROUPS = [
    ("PRC", "People's Republic of China, including Hong Kong", None, ["CN", "HK"]),
    ("Macau", "Macau, named separately in the advanced-computing rules", None, ["MO"]),
    ("D:1", "Country Group D:1 (national security)", None,
     _codes("AM AZ BY MM KH PRC GE IR IQ KZ KP KG LA LY MO MD MN RU TJ TM UZ VE VN YE")),
    ("D:4", "Country Group D:4 (missile technology)", None,
     _codes("BH PRC EG IR IQ IL JO KW LB LY MO KP OM PK QA RU SA SY AE YE")),
    ("D:5", "Country Group D:5 (U.S. arms embargoed countries)", None,
     _codes("AF BY MM KH CF PRC CD CU ER HT IR IQ KP LB LY NI RU SO SS SD SY VE ZW")),
    ("A:5", "Country Group A:5", None,
     _codes("AR AU AT BE BG CA HR CZ DK EE FI FR DE GR HU IS IN IE IT JP LV LT LU NL NZ NO PL PT RO SK SI KR ES SE "
            "CH TR GB")),
    ("A:6", "Country Group A:6", None, _codes("AL CY IL MT SG ZA TW")),
    ("E:1", "Country Group E:1 (terrorist supporting countries)", None, ["IR", "KP", "SY"]),
    ("E:2", "Country Group E:2 (unilateral embargo)", None, ["CU"]),
    ("AIA", "Supplement No. 5 to part 740, paragraph (a)", dt.date(2019, 1, 13),
     _codes("AU BE CA DK FI FR DE IE IT JP NL NZ NO KR ES SE TW GB")),
]

EXCEPTIONS = [("NAC", "Notified Advanced Computing", "740.8"), ("ACA", "Advanced Computing Authorized", "740.8"),
              ("HBM", "High Bandwidth Memory", "740.25"), ("AIA", "Artificial Intelligence Authorization", "740.27"),
              ("ACM", "Advanced Compute Manufacturing", "740.28"), ("LPP", "Low Processing Performance", "740.29"),
              ("GBS", "Shipments to Country Group B", "740.4"), ("CIV", "Civil end users", "740.5"),
              ("TSR", "Technology and software under restriction", "740.6"),
              ("APP", "Computers", "740.7"), ("TMP", "Temporary imports, exports and reexports", "740.9"),
              ("RPL", "Servicing and replacement parts", "740.10"), ("ENC", "Encryption", "740.17"),
              ("STA", "Strategic Trade Authorization", "740.20"), ("LVS", "Shipments of limited value", "740.3")]

DESTS = [
    "PRC, Macau", "D:1, D:4, D:5, Macau except A:5, A:6", "all except AIA", "D:5, Macau", "PRC",
    "Macau", "E:1, E:2", "RU, BY", "D:1 except A:5", "all except A:5, A:6",
]
POLICIES = ["presumption_of_denial", "case_by_case", "presumption_of_approval", "policy_of_denial"]
REASONS = ["RS, AT", "NS, AT", "NS, RS, AT", "RS", "MT, AT", "NS, MT, AT", "EI", "AT"]
LOCATORS = ["742.6(a)(6)", "742.6(a)(11)", "Supp. No. 1 to part 774", "744.23", "742.4(a)", "746.8",
            "amendatory instruction 25", "Note 2 to the ECCN"]
END_USES = ["military", "space", "nuclear", "supercomputer", "surveillance", "civil"]


@dataclass
class Doc:
    id: str
    published: dt.date
    effective: dt.date


def _fmt_num(rng: random.Random, lo: float, hi: float) -> tuple[str, float]:
    """A threshold in one of the DSL's notations and its approximate value."""
    if hi >= 1e20:
        exp = rng.randint(len(str(int(lo))) - 1, len(str(int(hi))) - 1)
        if rng.random() < 0.5:
            return f"10^{exp}", 10.0**exp
        m = rng.randint(2, 9)
        return f"{m} x 10^{exp - 1}", m * 10.0 ** (exp - 1)
    v = rng.uniform(lo, hi)
    if hi <= 20:
        s = f"{v:.2f}".rstrip("0").rstrip(".")
        return s, float(s)
    iv = int(v)
    if iv >= 1_000_000:
        iv = iv // 1_000_000 * 1_000_000
        return f"{iv:_}", float(iv)
    iv = max(1, iv // 10 * 10)
    return str(iv), float(iv)


def _day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    if hi <= lo:
        return lo
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


def _eccn_bases() -> list[str]:
    """3A000, 3A001, ... 3A999, 3B000, ... (categories 3, 4, 5, 0, 1, 2, 6, 7, 8, 9; groups A-E)."""
    out = []
    for cat in "3450126789":
        for grp in "ABCDE":
            for num in range(1000):
                out.append(f"{cat}{grp}{num:03d}")
    return out


class _Gen:
    def __init__(self, n_controls: int, seed: int) -> None:
        self.n = n_controls
        self.rng = random.Random(seed)
        self.out: list[str] = []
        self.docs: list[Doc] = []
        self.doc_dates: list[dt.date] = []
        self.params: list[str] = []  # parameter blocks, written before the controls
        self.shared: dict[str, list[str]] = {}  # attribute -> shared control-threshold parameter names
        self.eligibility: list[str] = []
        self.controls: list[str] = []
        self.eccns: list[str] = []  # every paragraph declared (for meets / access)
        self.synthetic_groups: list[str] = []

    def w(self, line: str = "") -> None:
        self.out.append(line)

    # -- documents -----------------------------------------------------------------------------------
    def documents(self) -> None:
        rng = self.rng
        n_docs = max(30, self.n // 10)
        span = (LAST_DAY - FIRST_DAY).days
        published = sorted(FIRST_DAY + dt.timedelta(days=rng.randint(0, span)) for _ in range(n_docs))
        self.w("# Source documents (generated). Every fact below cites one of these.")
        self.w()
        for k, pub in enumerate(published):
            doc_id = f"{pub.year}-{10000 + k:05d}"
            eff = pub + dt.timedelta(days=rng.choice([0, 0, 1, 14, 30, 60]) - (1 if rng.random() < 0.1 else 0))
            self.docs.append(Doc(doc_id, pub, eff))
            self.w(f"document {doc_id}")
            self.w(f'  citation "{pub.year - 1935} FR {rng.randint(100, 99999)}"')
            self.w(f"  published {pub}")
            self.w(f'  title "Export Administration Regulations: generated rule number {k} on advanced items"')
            self.w('  action "Interim final rule; request for comments."')
            self.w(f"  rin 0694-A{chr(65 + k % 26)}{k % 90 + 10}")
            self.w(f'  docket "{pub:%y%m%d}-{k % 10000:04d}"')
            if rng.random() < 0.3:
                self.w(f'  note "Generated note for document {k}: details checked against the FR text."')
            self.w(f'  effective {eff} scope "whole rule"')
            if rng.random() < 0.3:
                later = eff + dt.timedelta(days=rng.randint(20, 200))
                self.w(f'  effective {later} scope "amendatory instruction {rng.randint(2, 30)}" confidence medium')
            if rng.random() < 0.6:
                self.w(f"  comments_due {pub + dt.timedelta(days=60)}")
            if k > 0 and rng.random() < 0.04:
                start = eff + dt.timedelta(days=rng.randint(30, 300))
                self.w(f"  status not_enforced from {start} cite {self.docs[k - 1].id} confidence medium")
            elif k > 0 and rng.random() < 0.03:
                start = eff + dt.timedelta(days=rng.randint(30, 300))
                end = start + dt.timedelta(days=rng.randint(30, 365))
                self.w(f"  status suspended from {start} through {end} cite {self.docs[k - 1].id}")
            self.w()
        self.doc_dates = [d.published for d in self.docs]

    def doc_near(self, day: dt.date) -> Doc:
        """The latest document published on or before ``day`` (else the first)."""
        i = bisect.bisect_right(self.doc_dates, day) - 1
        return self.docs[max(i, 0)]

    def cite(self, day: dt.date, *, extra: bool = True) -> str:
        rng = self.rng
        doc = self.doc_near(day)
        out = f"cite {doc.id}"
        if extra and rng.random() < 0.5:
            out += f' at "{rng.choice(LOCATORS)}"'
        if extra and rng.random() < 0.25:
            out += f" confidence {rng.choice(['high', 'medium', 'low'])}"
        if extra and rng.random() < 0.05:
            out += ' unresolved "the primary CFR text has not been read yet"'
        return out

    # -- vocabulary, groups, exceptions --------------------------------------------------------------
    def vocabulary(self) -> None:
        self.w("# Vocabulary: units, asset kinds, attributes and hints (generated).")
        for name, desc in UNITS:
            self.w(f'unit {name} "{desc}"')
        self.w()
        for name, desc in KINDS:
            self.w(f'kind {name} "{desc}"')
        self.w()
        for name, unit, kinds, _ in NUM_ATTRS:
            self.w(f'attribute {name} number unit {unit} of {kinds} "{name.replace("_", " ")}"')
        for name, kinds, default, desc in BOOL_ATTRS:
            d = f" default {default}" if default else ""
            self.w(f'attribute {name} bool of {kinds}{d} "{desc}"')
        for name, kinds, desc in STR_ATTRS:
            self.w(f'attribute {name} string of {kinds} "{desc}"')
        self.w()
        self.w('hint weights -> model_weights "*.safetensors", "*.gguf", "*.pt", "*.onnx", "model*.bin"')
        self.w('hint checkpoint -> checkpoint "*.ckpt", "**/checkpoint-*/**"')
        self.w('hint training_config -> training_config "**/train*.yaml", "**/training_args.json"')
        self.w()

    def groups(self) -> None:
        rng = self.rng
        first = self.docs[0]
        self.w("# Country groups: the real Supplement No. 1 groups plus generated ones with dated changes.")
        self.w()
        for name, desc, start, members in REAL_GROUPS:
            self.w(f'group {name} "{desc}"')
            when = f"from {start} " if start else ""
            self.w(f"  {when}add {', '.join(members)} cite {first.id} confidence low")
            self.w()
        for k in range(max(5, self.n // 100)):
            name = f"T:{k + 1}"
            self.synthetic_groups.append(name)
            self.w(f'group {name} "Generated destination group {k + 1}"')
            members = rng.sample(ISO, rng.randint(3, 12))
            self.w(f"  add {', '.join(members)} cite {first.id}")
            day = FIRST_DAY
            for _ in range(rng.randint(0, 3)):
                day = _day(rng, day + dt.timedelta(days=30), day + dt.timedelta(days=700))
                if day > LAST_DAY:
                    break
                op = rng.choice(["add", "remove"])
                pool = [c for c in ISO if c not in members] if op == "add" else members
                items = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
                through = ""
                if rng.random() < 0.3:
                    through = f" through {day + dt.timedelta(days=rng.randint(30, 400))}"
                self.w(f"  from {day} {op} {', '.join(items)}{through} {self.cite(day)}")
            self.w()

    def exceptions(self) -> None:
        rng = self.rng
        self.w("# License exceptions.")
        self.w()
        for code, title, section in EXCEPTIONS:
            day = _day(rng, FIRST_DAY, dt.date(2019, 6, 30))
            self.w(f'exception {code} "{title}"')
            self.w(f'  section "{section}"')
            self.w(f"  effective {day} {self.cite(day)}")
            if rng.random() < 0.2:
                s = _day(rng, dt.date(2024, 1, 1), dt.date(2025, 12, 31))
                self.w(f"  status not_enforced from {s} {self.cite(s, extra=False)}")
            self.w()

    # -- parameters ----------------------------------------------------------------------------------
    def parameter(self, name: str, attr: str, start: dt.date, *, role: str = "control",
                  end: dt.date | None = None, values: int | None = None) -> None:
        """A parameter with several dated values from ``start``; ``end``: an 'end' line on that date."""
        rng = self.rng
        _, unit, _, (lo, hi) = NUM_ATTR[attr]
        role_s = f" role {role}" if role != "control" else ""
        lines = [f'parameter {name} unit {unit}{role_s} "{attr.replace("_", " ")} threshold ({name})"']
        n_values = values if values is not None else rng.choice([1, 2, 2, 3, 3, 4])
        day = start
        limit = end - dt.timedelta(days=1) if end else LAST_DAY
        for i in range(n_values):
            if i and day >= limit:
                break
            text, _ = _fmt_num(rng, lo, hi)
            lines.append(f"  from {day} {text} {self.cite(day)}")
            day = _day(rng, day + dt.timedelta(days=60), day + dt.timedelta(days=900))
            if day > limit:
                break
        if end is not None:
            lines.append(f"  from {end} end {self.cite(end, extra=False)}")
        self.params.append("\n".join(lines) + "\n")

    def shared_params(self) -> None:
        for attr, *_ in NUM_ATTRS:
            names = []
            for k in range(8):
                name = f"{attr}_common_{k}"
                self.parameter(name, attr, FIRST_DAY)
                names.append(name)
            self.shared[attr] = names
        for k in range(6):
            name = f"cbc_review_tpp_{k}"
            self.parameter(name, "tpp", FIRST_DAY, role="policy_eligibility")
            self.eligibility.append(name)

    # -- controls ------------------------------------------------------------------------------------
    def threshold(self, attr: str, eccn_slug: str, start: dt.date, end: dt.date | None, tag: str) -> str:
        """A parameter name (dedicated or shared) or a literal for a comparison with ``attr``."""
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            name = f"{attr}_{eccn_slug}_{tag}"
            self.parameter(name, attr, start, end=end + dt.timedelta(days=1) if end else None)
            return name
        if r < 0.8:
            return rng.choice(self.shared[attr])
        _, _, _, (lo, hi) = NUM_ATTR[attr]
        return _fmt_num(rng, lo, hi)[0]

    def condition(self, eccn: str, slug: str, start: dt.date, end: dt.date | None) -> tuple[str, bool]:
        """A condition and whether it should be written as a multi-line ``when (`` block."""
        rng = self.rng
        chip = ["tpp", "performance_density", "io_bandwidth", "bit_tops", "transistors", "die_area_mm2",
                "power_w", "clock_ghz", "dram_bandwidth", "memory_bandwidth_density"]

        def cmp(attr: str, op: str, tag: str) -> str:
            return f"{attr} {op} {self.threshold(attr, slug, start, end, tag)}"

        shape = rng.random()
        # 'meets' only earlier paragraphs of other ECCNs, so the references never form a cycle
        pool = [e for e in self.eccns[-200:] if e.split(".")[0] != eccn.split(".")[0]] if shape < 0.1 else []
        if pool:
            # a .z-style paragraph or a 4A090-style "containing items that meet" paragraph
            refs = rng.sample(pool, min(2, len(pool)))
            refs = [r if rng.random() < 0.5 else r.split(".")[0] for r in refs]
            meets = " or ".join(f"meets {r}" for r in refs)
            if rng.random() < 0.5:
                return f'base_eccn == "{eccn[:5]}" and ({meets})', False
            return meets, False
        if shape < 0.18:
            return f"{cmp('training_operations', '>=', 'a')} and not published", False
        a, b, c = rng.sample(chip, 3)
        if shape < 0.4:
            return cmp(a, ">=", "a"), False
        if shape < 0.65:
            return f"{cmp(a, '>=', 'a')} and {cmp(b, '>=', 'b')}", False
        if shape < 0.8:
            return f"{cmp(a, '>=', 'a')} or ({cmp(b, '>=', 'b')} and {cmp(c, '>=', 'c')})", False
        if shape < 0.9:
            use = ", ".join(f'"{u}"' for u in rng.sample(END_USES, 2))
            return f"{cmp(a, '>', 'a')} and end_use in {{{use}}} and not radiation_hardened", False
        cond = (f"({cmp(a, '>=', 'a')} and {cmp(a, '<', 'b')} and {cmp(b, '>=', 'c')} and {cmp(b, '<', 'd')})\n"
                f"      or ({cmp(c, '>=', 'e')} and {cmp(b, '>=', 'f')} and {cmp(b, '<', 'g')})")
        return cond, True

    def control(self, eccn: str, start: dt.date, end: dt.date | None) -> None:
        rng = self.rng
        slug = eccn.lower().replace(".", "")
        if end is not None:
            slug += "_old"
        cond, multiline = self.condition(eccn, slug, start, end)
        lines: list[str] = []
        if rng.random() < 0.15:
            lines.append(f"# {eccn}: generated paragraph; see the cited rule for the full text.")
        lines.append(f'control {eccn} "Generated items of {eccn} (paragraph version from {start})"')
        if "training_operations" in cond:
            kinds = "model, model_weights, checkpoint"
        elif "meets" in cond:
            kinds = rng.choice(["computer", "commodity", "software"])
        else:
            kinds = rng.choice(["ic", "ic", "ic, computer", "computer", "hbm", "equipment, technology"])
        lines.append(f"  applies to {kinds}")
        if multiline:
            lines.append(f"  when (\n      {cond}\n    ) {self.cite(start)}")
        else:
            lines.append(f"  when {cond} {self.cite(start)}")
        for k in range(rng.choice([0, 0, 1, 1, 2])):
            x = rng.random()
            if x < 0.4:
                thr = f"tpp_{slug}_x{k}"
                self.parameter(thr, "tpp", start, role="exclusion", end=end + dt.timedelta(days=1) if end else None)
                lines.append(f"  except when not datacenter and tpp < {thr} {self.cite(start)}")
            elif x < 0.7:
                lines.append(f"  except when below_published_frontier {self.cite(start)}")
            else:
                lines.append(f'  except when mass_market and key_bits <= 64 {self.cite(start)}')
        lines.append(f"  reason {rng.choice(REASONS)}")
        win = f"{start} through {end}" if end else f"{start}"
        trailing = "  # closed by the next version" if end and rng.random() < 0.3 else ""
        lines.append(f"  effective {win} {self.cite(start)}{trailing}")
        if rng.random() < 0.3:
            comp = start + dt.timedelta(days=rng.choice([30, 60, 90, 120]))
            lines.append(f"  compliance {comp} {self.cite(start, extra=False)}")
        hi = end or LAST_DAY
        day = start
        for i in range(rng.randint(2, 4)):
            through = ""
            if i and rng.random() < 0.2:
                through = f" through {_day(rng, day, hi)}"
            lines.append(f"  license required to {rng.choice(DESTS)} from {day}{through} {self.cite(day)}")
            day = _day(rng, day, min(hi, day + dt.timedelta(days=500)))
        for _ in range(rng.choice([0, 1, 1, 2])):
            pday = _day(rng, start, hi)
            when = ""
            if rng.random() < 0.3:
                when = f" when tpp < {rng.choice(self.eligibility)}"
            lines.append(f"  policy {rng.choice(POLICIES)} to {rng.choice(DESTS[:6])}{when} from {pday} "
                         f"{self.cite(pday)}")
        for eday in sorted(_day(rng, start, hi) for _ in range(rng.choice([0, 1, 2, 3]))):
            codes = ", ".join(c for c, _, _ in rng.sample(EXCEPTIONS, rng.randint(1, 3)))
            lines.append(f"  exceptions {codes} from {eday} {self.cite(eday, extra=False)}")
        s = rng.random()
        if s < 0.08:
            sday = _day(rng, start, hi)
            lines.append(f"  status suspended from {sday} through {sday + dt.timedelta(days=365)} "
                         f"{self.cite(sday, extra=False)}")
        elif s < 0.14:
            sday = _day(rng, start, hi)
            lines.append(f"  status not_enforced from {sday} {self.cite(sday, extra=False)}")
        elif s < 0.16:
            sday = _day(rng, start, hi)
            lines.append(f"  status rescinded from {sday} {self.cite(sday, extra=False)}")
        self.controls.append("\n".join(lines) + "\n")
        self.eccns.append(eccn)

    def all_controls(self) -> None:
        rng = self.rng
        bases = iter(_eccn_bases())
        made = 0
        while made < self.n:
            base = next(bases)
            for para in "abcd"[: rng.choice([1, 1, 2, 3, 4])]:
                if made >= self.n:
                    break
                eccn = f"{base}.{para}"
                start = _day(rng, dt.date(2019, 1, 1), dt.date(2024, 6, 30))
                if made + 1 < self.n and rng.random() < 0.2:
                    # two versions of the paragraph: the older one is closed the day before the newer one
                    new_start = _day(rng, start + dt.timedelta(days=90), dt.date(2026, 6, 30))
                    self.control(eccn, start, new_start - dt.timedelta(days=1))
                    self.control(eccn, new_start, None)
                    made += 2
                else:
                    self.control(eccn, start, None)
                    made += 1

    def access_rules(self) -> None:
        rng = self.rng
        for k in range(max(2, self.n // 250)):
            on = ", ".join(rng.sample(self.eccns, min(len(self.eccns), rng.randint(2, 8))))
            effect = rng.choice(["release", "release", "allow", "deny"])
            self.w(f'access generated_rule_{k} "Generated access rule {k}"')
            self.w(f"  on {on}")
            self.w(f"  actions {rng.choice(['read, clone, modify, export', 'query_api, execute_compiled', 'export'])}")
            self.w(f"  {effect}")
            if effect == "deny":
                self.w("  when subject.citizenships in group E:1 or subject.citizenships in group E:2")
            if effect != "allow":
                self.w("  unless subject.us_person or subject.permanent_resident")
            self.w()

    def run(self) -> str:
        self.w("# Generated benchmark ruleset (bench/gen_rules.py). Not legal advice; not real rules.")
        self.w(f"# {self.n} controls.")
        self.w()
        self.w(f'ruleset "regwatch benchmark: {self.n} generated controls"')
        self.w()
        self.vocabulary()
        self.documents()
        self.groups()
        self.exceptions()
        self.shared_params()
        self.all_controls()
        self.w("# Parameters (dated thresholds).")
        self.w()
        for p in self.params:
            self.out.append(p)
        self.w("# Controls, one block per ECCN paragraph version.")
        self.w()
        for c in self.controls:
            self.out.append(c)
        self.w("# Access rules.")
        self.w()
        self.access_rules()
        return "\n".join(self.out).rstrip("\n") + "\n"


def generate(n_controls: int = 5000, seed: int = 20261126) -> str:
    """The text of a valid ruleset with exactly ``n_controls`` control blocks."""
    if n_controls < 1:
        raise ValueError("n_controls must be at least 1")
    return _Gen(n_controls, seed).run()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--controls", type=int, default=5000, help="number of control blocks (default 5000)")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    ap.add_argument("--check", action="store_true", help="validate with Ruleset.from_text().check(), print a summary")
    args = ap.parse_args(argv)
    text = generate(args.controls, args.seed)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    elif not args.check:
        sys.stdout.write(text)
    if args.check:
        from rulesdsl.errors import DslError
        from rulesdsl.ruleset import Ruleset

        try:
            rs = Ruleset.from_text(text, "generated.rules")
            warnings = rs.check()
        except DslError as e:
            print(str(e)[:4000], file=sys.stderr)
            print(f"INVALID: {len(e.diagnostics)} errors", file=sys.stderr)
            return 1
        print(f"ok: {len(rs.controls)} controls, {len(rs.parameters)} parameters, {len(rs.documents)} documents, "
              f"{len(rs.groups)} groups, {len(rs.access)} access rules, {len(text.splitlines())} lines, "
              f"{len(text.encode())} bytes, {len(warnings)} warnings", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
