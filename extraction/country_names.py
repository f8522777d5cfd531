"""Country names as the Export Administration Regulations write them, mapped to ISO 3166-1 alpha-2 codes.

Federal Register rules name destinations in prose and in tables: Supplement No. 1 to part 740 ("Country
Groups") lists "Korea, North", "Bahamas, The", "Congo, Democratic Republic of the"; preambles say "the
People's Republic of China", "Burma", "Macau", "the Netherlands". The policy DSL only speaks ISO codes
(:mod:`rulesdsl.countries`, which adds ``XK`` for Kosovo as the EAR does), so extraction needs one
table that turns every such spelling into a code.

Entry points
------------
* :func:`code_of` -- the code of one name as written (``"Korea, South"`` -> ``"KR"``), ``None`` if the
  name is unknown or ambiguous (``"Korea"``).
* :func:`find_countries` -- every country name in a text, in order, as ``(start, end, code, text)``.

Rules
-----
* Every assigned ISO 3166-1 alpha-2 code plus ``XK`` has its common English short name, the ISO long
  form where it differs ("Korea, Republic of", "Iran, Islamic Republic of"), and the spellings US
  government texts use ("Burma", "Korea, North", "Macau", "Cabo Verde", "Kyrgyz Republic" ...).
* Names compare case-insensitively, with any run of whitespace (including newlines) between words,
  straight or curly apostrophes, accents optional ("Cote d'Ivoire" = "Côte d'Ivoire"), "Saint" or
  "St."/"St", "and" or "&", optional periods in abbreviations ("U.S."/"US") and a hyphen, dash or space
  in hyphenated names ("Guinea-Bissau", "Timor Leste").
* In running text a name must start with an uppercase letter (regulations capitalise country names, so
  "china clay" and "mali" are not countries) and stand as whole words ("Omani", "Indiana" and
  "Nigerian" are not Oman, India or Niger). At one position the longest name wins: "Papua New Guinea",
  "Guinea-Bissau", "Democratic People's Republic of Korea" (KP, not "Republic of Korea").
* A leading "the" is never part of a name: :func:`code_of` ignores it and :func:`find_countries` leaves
  it out of the span. The EAR table form "Bahamas, The" / "Gambia, The" is one name, but only with a
  capital "The" that does not run on into another word on the same line ("Gambia, The Netherlands" is
  two countries).
* "Korea" alone and "Virgin Islands" alone are ambiguous and are not names. A few non-country places that
  contain a country name ("New Jersey", "New Mexico", "New Guinea") are recognised and skipped.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# code -> names. The first name is the common English short name; the rest are ISO long forms and the
# aliases US government texts use. Accented names match their unaccented spelling too; "Saint ..." names
# match "St. ..." too (both added by the matcher, see _variants), so neither needs listing twice.
NAMES: dict[str, tuple[str, ...]] = {
    "AD": ("Andorra",),
    "AE": ("United Arab Emirates",),
    "AF": ("Afghanistan",),
    "AG": ("Antigua and Barbuda",),
    "AI": ("Anguilla",),
    "AL": ("Albania",),
    "AM": ("Armenia",),
    "AO": ("Angola",),
    "AQ": ("Antarctica",),
    "AR": ("Argentina",),
    "AS": ("American Samoa",),
    "AT": ("Austria",),
    "AU": ("Australia",),
    "AW": ("Aruba",),
    "AX": ("Åland Islands", "Aland Islands"),
    "AZ": ("Azerbaijan",),
    "BA": ("Bosnia and Herzegovina", "Bosnia-Herzegovina", "Bosnia"),
    "BB": ("Barbados",),
    "BD": ("Bangladesh",),
    "BE": ("Belgium",),
    "BF": ("Burkina Faso",),
    "BG": ("Bulgaria",),
    "BH": ("Bahrain",),
    "BI": ("Burundi",),
    "BJ": ("Benin",),
    "BL": ("Saint Barthélemy", "Saint Barthelemy", "Saint Barts"),
    "BM": ("Bermuda",),
    "BN": ("Brunei", "Brunei Darussalam"),
    "BO": ("Bolivia", "Bolivia, Plurinational State of", "Plurinational State of Bolivia"),
    "BQ": ("Bonaire, Sint Eustatius and Saba", "Caribbean Netherlands", "Bonaire"),
    "BR": ("Brazil",),
    "BS": ("Bahamas", "Bahamas, The"),
    "BT": ("Bhutan",),
    "BV": ("Bouvet Island",),
    "BW": ("Botswana",),
    "BY": ("Belarus",),
    "BZ": ("Belize",),
    "CA": ("Canada",),
    "CC": ("Cocos (Keeling) Islands", "Cocos Islands", "Keeling Islands"),
    "CD": (
        "Democratic Republic of the Congo",
        "Congo, Democratic Republic of the",
        "Congo, The Democratic Republic of the",
        "Democratic Republic of Congo",
        "Congo (Kinshasa)",
        "Congo-Kinshasa",
    ),
    "CF": ("Central African Republic",),
    "CG": (
        "Congo",
        "Republic of the Congo",
        "Congo, Republic of the",
        "Republic of Congo",
        "Congo (Brazzaville)",
        "Congo-Brazzaville",
    ),
    "CH": ("Switzerland",),
    "CI": ("Côte d'Ivoire", "Cote d'Ivoire", "Ivory Coast"),
    "CK": ("Cook Islands",),
    "CL": ("Chile",),
    "CM": ("Cameroon",),
    "CN": ("China", "People's Republic of China", "China, People's Republic of", "China (People's Republic of)"),
    "CO": ("Colombia",),
    "CR": ("Costa Rica",),
    "CU": ("Cuba",),
    "CV": ("Cabo Verde", "Cape Verde"),
    "CW": ("Curaçao", "Curacao"),
    "CX": ("Christmas Island",),
    "CY": ("Cyprus",),
    "CZ": ("Czechia", "Czech Republic"),
    "DE": ("Germany",),
    "DJ": ("Djibouti",),
    "DK": ("Denmark",),
    "DM": ("Dominica",),
    "DO": ("Dominican Republic",),
    "DZ": ("Algeria",),
    "EC": ("Ecuador",),
    "EE": ("Estonia",),
    "EG": ("Egypt",),
    "EH": ("Western Sahara",),
    "ER": ("Eritrea",),
    "ES": ("Spain",),
    "ET": ("Ethiopia",),
    "FI": ("Finland",),
    "FJ": ("Fiji",),
    "FK": ("Falkland Islands", "Falkland Islands (Malvinas)", "Falkland Islands (Islas Malvinas)"),
    "FM": ("Micronesia", "Micronesia, Federated States of", "Federated States of Micronesia"),
    "FO": ("Faroe Islands", "Faeroe Islands"),
    "FR": ("France",),
    "GA": ("Gabon",),
    "GB": (
        "United Kingdom",
        "United Kingdom of Great Britain and Northern Ireland",
        "Great Britain",
        "Northern Ireland",
    ),
    "GD": ("Grenada",),
    "GE": ("Georgia",),
    "GF": ("French Guiana",),
    "GG": ("Guernsey",),
    "GH": ("Ghana",),
    "GI": ("Gibraltar",),
    "GL": ("Greenland",),
    "GM": ("Gambia", "Gambia, The"),
    "GN": ("Guinea",),
    "GP": ("Guadeloupe",),
    "GQ": ("Equatorial Guinea",),
    "GR": ("Greece",),
    "GS": (
        "South Georgia and the South Sandwich Islands",
        "South Georgia and South Sandwich Islands",
        "South Georgia",
    ),
    "GT": ("Guatemala",),
    "GU": ("Guam",),
    "GW": ("Guinea-Bissau",),
    "GY": ("Guyana",),
    "HK": ("Hong Kong",),
    "HM": ("Heard Island and McDonald Islands", "Heard and McDonald Islands"),
    "HN": ("Honduras",),
    "HR": ("Croatia",),
    "HT": ("Haiti",),
    "HU": ("Hungary",),
    "ID": ("Indonesia",),
    "IE": ("Ireland",),
    "IL": ("Israel",),
    "IM": ("Isle of Man",),
    "IN": ("India",),
    "IO": ("British Indian Ocean Territory",),
    "IQ": ("Iraq",),
    "IR": ("Iran", "Iran, Islamic Republic of", "Islamic Republic of Iran"),
    "IS": ("Iceland",),
    "IT": ("Italy",),
    "JE": ("Jersey",),
    "JM": ("Jamaica",),
    "JO": ("Jordan",),
    "JP": ("Japan",),
    "KE": ("Kenya",),
    "KG": ("Kyrgyzstan", "Kyrgyz Republic"),
    "KH": ("Cambodia",),
    "KI": ("Kiribati",),
    "KM": ("Comoros",),
    "KN": ("Saint Kitts and Nevis",),
    "KP": (
        "North Korea",
        "Korea, North",
        "Democratic People's Republic of Korea",
        "Korea, Democratic People's Republic of",
    ),
    "KR": ("South Korea", "Korea, South", "Republic of Korea", "Korea, Republic of"),
    "KW": ("Kuwait",),
    "KY": ("Cayman Islands",),
    "KZ": ("Kazakhstan",),
    "LA": ("Laos", "Lao People's Democratic Republic", "Lao PDR"),
    "LB": ("Lebanon",),
    "LC": ("Saint Lucia",),
    "LI": ("Liechtenstein",),
    "LK": ("Sri Lanka",),
    "LR": ("Liberia",),
    "LS": ("Lesotho",),
    "LT": ("Lithuania",),
    "LU": ("Luxembourg",),
    "LV": ("Latvia",),
    "LY": ("Libya",),
    "MA": ("Morocco",),
    "MC": ("Monaco",),
    "MD": ("Moldova", "Republic of Moldova", "Moldova, Republic of"),
    "ME": ("Montenegro",),
    "MF": ("Saint Martin", "Saint Martin (French part)"),
    "MG": ("Madagascar",),
    "MH": ("Marshall Islands",),
    "MK": (
        "North Macedonia",
        "Republic of North Macedonia",
        "Macedonia",
        "Former Yugoslav Republic of Macedonia",
    ),
    "ML": ("Mali",),
    "MM": ("Burma", "Myanmar"),
    "MN": ("Mongolia",),
    "MO": ("Macau", "Macao"),
    "MP": ("Northern Mariana Islands",),
    "MQ": ("Martinique",),
    "MR": ("Mauritania",),
    "MS": ("Montserrat",),
    "MT": ("Malta",),
    "MU": ("Mauritius",),
    "MV": ("Maldives",),
    "MW": ("Malawi",),
    "MX": ("Mexico",),
    "MY": ("Malaysia",),
    "MZ": ("Mozambique",),
    "NA": ("Namibia",),
    "NC": ("New Caledonia",),
    "NE": ("Niger",),
    "NF": ("Norfolk Island",),
    "NG": ("Nigeria",),
    "NI": ("Nicaragua",),
    "NL": ("Netherlands",),
    "NO": ("Norway",),
    "NP": ("Nepal",),
    "NR": ("Nauru",),
    "NU": ("Niue",),
    "NZ": ("New Zealand",),
    "OM": ("Oman",),
    "PA": ("Panama",),
    "PE": ("Peru",),
    "PF": ("French Polynesia",),
    "PG": ("Papua New Guinea",),
    "PH": ("Philippines",),
    "PK": ("Pakistan",),
    "PL": ("Poland",),
    "PM": ("Saint Pierre and Miquelon",),
    "PN": ("Pitcairn Islands", "Pitcairn"),
    "PR": ("Puerto Rico",),
    "PS": (
        "Palestinian Territories",
        "Palestinian Territory",
        "Occupied Palestinian Territories",
        "Palestine",
        "State of Palestine",
        "Palestine, State of",
        "West Bank",
        "Gaza",
        "Gaza Strip",
    ),
    "PT": ("Portugal",),
    "PW": ("Palau",),
    "PY": ("Paraguay",),
    "QA": ("Qatar",),
    "RE": ("Réunion", "Reunion"),
    "RO": ("Romania",),
    "RS": ("Serbia",),
    "RU": ("Russia", "Russian Federation"),
    "RW": ("Rwanda",),
    "SA": ("Saudi Arabia",),
    "SB": ("Solomon Islands",),
    "SC": ("Seychelles",),
    "SD": ("Sudan",),
    "SE": ("Sweden",),
    "SG": ("Singapore",),
    "SH": ("Saint Helena", "Saint Helena, Ascension and Tristan da Cunha"),
    "SI": ("Slovenia",),
    "SJ": ("Svalbard and Jan Mayen", "Svalbard"),
    "SK": ("Slovakia", "Slovak Republic"),
    "SL": ("Sierra Leone",),
    "SM": ("San Marino",),
    "SN": ("Senegal",),
    "SO": ("Somalia",),
    "SR": ("Suriname", "Surinam"),
    "SS": ("South Sudan",),
    "ST": ("São Tomé and Príncipe", "Sao Tome and Principe"),
    "SV": ("El Salvador",),
    "SX": ("Sint Maarten", "Sint Maarten (Dutch part)", "Saint Maarten"),
    "SY": ("Syria", "Syrian Arab Republic"),
    "SZ": ("Eswatini", "Swaziland"),
    "TC": ("Turks and Caicos Islands",),
    "TD": ("Chad",),
    "TF": ("French Southern Territories", "French Southern and Antarctic Lands"),
    "TG": ("Togo",),
    "TH": ("Thailand",),
    "TJ": ("Tajikistan",),
    "TK": ("Tokelau",),
    "TL": ("Timor-Leste", "East Timor"),
    "TM": ("Turkmenistan",),
    "TN": ("Tunisia",),
    "TO": ("Tonga",),
    "TR": ("Turkey", "Türkiye"),
    "TT": ("Trinidad and Tobago",),
    "TV": ("Tuvalu",),
    "TW": ("Taiwan", "Taiwan, Province of China"),
    "TZ": ("Tanzania", "United Republic of Tanzania", "Tanzania, United Republic of"),
    "UA": ("Ukraine",),
    "UG": ("Uganda",),
    "UM": ("United States Minor Outlying Islands", "U.S. Minor Outlying Islands"),
    "US": ("United States", "United States of America"),
    "UY": ("Uruguay",),
    "UZ": ("Uzbekistan",),
    "VA": ("Holy See", "Vatican City", "Vatican City State", "Holy See (Vatican City State)"),
    "VC": ("Saint Vincent and the Grenadines",),
    "VE": ("Venezuela", "Venezuela, Bolivarian Republic of", "Bolivarian Republic of Venezuela"),
    "VG": ("British Virgin Islands", "Virgin Islands, British"),
    "VI": ("U.S. Virgin Islands", "Virgin Islands, U.S.", "United States Virgin Islands"),
    "VN": ("Vietnam", "Viet Nam"),
    "VU": ("Vanuatu",),
    "WF": ("Wallis and Futuna", "Wallis and Futuna Islands"),
    "WS": ("Samoa", "Western Samoa"),
    "XK": ("Kosovo",),
    "YE": ("Yemen",),
    "YT": ("Mayotte",),
    "ZA": ("South Africa",),
    "ZM": ("Zambia",),
    "ZW": ("Zimbabwe",),
}

# Places that are not countries but contain a country name: matched (so the longest-match rule sees them)
# and then skipped, so "New Jersey" does not yield Jersey (JE).
NOT_COUNTRIES: tuple[str, ...] = ("New Jersey", "New Mexico", "New Guinea")

_APOSTROPHES = "'’‘ʼ"
_HYPHENS = "-‐‑–"
_THE_SUFFIX = ", The"


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _accents(s: str) -> int:
    return sum(not c.isascii() for c in s)


def _key(name: str) -> str:
    """The lookup form of a name: no accents, lower case, straight apostrophes, no periods, "and" for "&",
    hyphens as spaces, single spaces, ", " after commas, no leading "the"."""
    s = _strip_accents(name).lower()
    s = re.sub(f"[{_APOSTROPHES}]", "'", s)
    s = re.sub(r"(?<=\w)\.(?=\w)", "", s)  # U.S -> US
    s = s.replace(".", " ").replace("&", " and ")
    s = re.sub(f"[{_HYPHENS}]", " ", s)
    s = re.sub(r"\s*,\s*", ", ", " ".join(s.split()))
    s = s.replace(", and ", " and ").strip(" ,")
    return s.removeprefix("the ")


def _variants(name: str) -> list[str]:
    """The name and its "St." spelling for "Saint ..." names."""
    if name.startswith("Saint "):
        return [name, "St. " + name.removeprefix("Saint ")]
    return [name]


_TOKEN = re.compile(r"\s+and\s+|\s*,\s*|\s+|.", re.S)
_END = ""  # trie key marking the end of a name


def _fragments(name: str) -> list[str]:
    """Regex fragments of one name: flexible whitespace, apostrophes, hyphens, periods, "and"/"&", accents."""
    tail: list[str] = []
    if name.endswith(_THE_SUFFIX):
        # "Bahamas, The": capital T, and not "Gambia, The Netherlands" (another word on the same line).
        name = name.removesuffix(_THE_SUFFIX)
        tail = [r"\s*,\s*(?-i:T)he(?![^\S\r\n]+[^\W\d_])"]
    parts: list[str] = []
    for tok in _TOKEN.findall(name.lower()):
        if tok.strip() == "and":
            parts.append(r",?\s+(?:and|&)\s+")
        elif tok.strip() == ",":
            parts.append(r"\s*,\s*")
        elif tok.isspace():
            parts.append(r"\s+")
        elif tok in _APOSTROPHES:
            parts.append(f"[{_APOSTROPHES}]")
        elif tok in _HYPHENS:
            parts.append(rf"(?:\s*[{_HYPHENS}]\s*|\s+)")
        elif tok == ".":
            parts.append(r"\.?")
        else:
            base = _strip_accents(tok)
            parts.append(f"[{tok}{base}]" if base and base != tok else re.escape(tok))
    return parts + tail


_Trie = dict[str, "_Trie"]


def _trie_regex(node: _Trie, depth: dict[int, int]) -> str:
    """Regex for a trie of fragments. Longer continuations are tried first and the end of a name last, so
    the longest name wins at a position (backtracking falls back to a shorter one)."""
    keys = sorted((k for k in node if k != _END), key=lambda k: -depth[id(node[k])])
    alts = [k + _trie_regex(node[k], depth) for k in keys]
    if _END in node:
        alts.append("")
    if len(alts) == 1:
        return alts[0]
    return "(?:" + "|".join(alts) + ")"


def _depths(node: _Trie, depth: dict[int, int]) -> int:
    """Fill ``depth`` with the length (in fragments) of the longest name below each node."""
    d = 1 + max((_depths(child, depth) for k, child in node.items() if k != _END), default=0)
    depth[id(node)] = d
    return d


@functools.lru_cache(maxsize=1)
def _lookup() -> dict[str, str | None]:
    """Normalised name -> code (``None`` for the places in NOT_COUNTRIES)."""
    table: dict[str, str | None] = {}
    entries: list[tuple[str, str | None]] = [(n, c) for c, names in NAMES.items() for n in names]
    entries += [(n, None) for n in NOT_COUNTRIES]
    for name, code in entries:
        for variant in _variants(name):
            k = _key(variant)
            if table.get(k, code) != code:
                raise ValueError(f"country name {variant!r} maps to both {table[k]} and {code}")
            table[k] = code
    return table


@functools.lru_cache(maxsize=1)
def _matcher() -> re.Pattern[str]:
    """One alternation of every name, longest first, between word boundaries. The alternation is factored
    into a trie of regex fragments ("Korea, North|Korea, South" -> "korea,(?:north|south)") so that a
    position that cannot start a name is rejected after one character: a 2,000-character paragraph is
    scanned in a fraction of a millisecond."""
    names: dict[str, str] = {}  # one spelling per key (an accented one covers its unaccented twin)
    for name in [n for ns in NAMES.values() for n in ns] + list(NOT_COUNTRIES):
        for variant in _variants(name):
            k = _key(variant)
            if k not in names or _accents(variant) > _accents(names[k]):
                names[k] = variant
    root: _Trie = {}
    for name in sorted(names.values(), key=lambda n: (-len(n), n)):
        node = root
        for frag in _fragments(name):
            node = node.setdefault(frag, {})
        node[_END] = {}
    depth: dict[int, int] = {}
    _depths(root, depth)
    return re.compile(r"(?<!\w)" + _trie_regex(root, depth) + r"(?!\w)", re.IGNORECASE)


def code_of(name: str) -> str | None:
    """ISO alpha-2 code of a country name as written ("Burma" -> "MM", "Korea, South" -> "KR",
    "the Netherlands" -> "NL"); ``None`` if the name is unknown or ambiguous ("Korea")."""
    return _lookup().get(_key(name))


def find_countries(text: str) -> list[tuple[int, int, str, str]]:
    """Every country name in ``text``, in order, as ``(start, end, code, text as written)``.

    Longest name wins, names are whole words, and a match must start with an uppercase letter; a leading
    "the" is not part of the span.
    """
    rx, table = _matcher(), _lookup()
    found: list[tuple[int, int, str, str]] = []
    pos = 0
    while (m := rx.search(text, pos)) is not None:
        written = m.group()
        if not written[0].isupper():
            pos = m.start() + 1
            continue
        code = table.get(_key(written))
        if code is not None:
            found.append((m.start(), m.end(), code, written))
        pos = m.end()
    return found
