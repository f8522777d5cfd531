"""Tests for extraction.country_names: EAR spellings -> ISO 3166-1 alpha-2, and finding names in text."""

from __future__ import annotations

import time

import pytest

from extraction.country_names import NAMES, NOT_COUNTRIES, code_of, find_countries
from rulesdsl.countries import ISO_ALPHA2


def codes(text: str) -> list[str]:
    return [code for _, _, code, _ in find_countries(text)]


def written(text: str) -> list[str]:
    return [w for _, _, _, w in find_countries(text)]


# --- the table covers ISO 3166-1 exactly --------------------------------------------------------------


def test_every_iso_code_has_a_name_and_every_table_code_is_iso() -> None:
    assert len(ISO_ALPHA2) == 250  # 249 assigned codes + XK
    assert set(NAMES) - ISO_ALPHA2 == set()
    assert ISO_ALPHA2 - set(NAMES) == set()
    assert all(NAMES[c] for c in ISO_ALPHA2)


@pytest.mark.parametrize("code", sorted(ISO_ALPHA2))
def test_every_code_is_reachable_by_each_of_its_names(code: str) -> None:
    for name in NAMES[code]:
        assert code_of(name) == code, name
        # ... and found in running text, with the whole name as the span
        text = f"Exports to {name}; a license is required."
        assert find_countries(text) == [(11, 11 + len(name), code, name)], name


def test_no_name_appears_under_two_codes() -> None:
    seen: dict[str, str] = {}
    for code, names in NAMES.items():
        for name in names:
            assert seen.setdefault(name.casefold(), code) == code, name


def test_not_countries_have_no_code() -> None:
    for name in NOT_COUNTRIES:
        assert code_of(name) is None
    assert codes("a distributor in Newark, New Jersey, and a lab in Albuquerque, New Mexico") == []
    assert codes("New Guinea") == []


# --- code_of --------------------------------------------------------------------------------------------

ALIASES = [
    ("Burma", "MM"),
    ("Myanmar", "MM"),
    ("Korea, North", "KP"),
    ("Korea, South", "KR"),
    ("North Korea", "KP"),
    ("South Korea", "KR"),
    ("Republic of Korea", "KR"),
    ("Korea, Republic of", "KR"),
    ("Democratic People's Republic of Korea", "KP"),
    ("Korea, Democratic People's Republic of", "KP"),
    ("Macau", "MO"),
    ("Macao", "MO"),
    ("Hong Kong", "HK"),
    ("Taiwan", "TW"),
    ("China", "CN"),
    ("People's Republic of China", "CN"),
    ("the People's Republic of China", "CN"),
    ("Russia", "RU"),
    ("Russian Federation", "RU"),
    ("Vietnam", "VN"),
    ("Viet Nam", "VN"),
    ("Laos", "LA"),
    ("Lao People's Democratic Republic", "LA"),
    ("Syria", "SY"),
    ("Iran", "IR"),
    ("Venezuela", "VE"),
    ("Bolivia", "BO"),
    ("Tanzania", "TZ"),
    ("Moldova", "MD"),
    ("Micronesia", "FM"),
    ("Micronesia, Federated States of", "FM"),
    ("Federated States of Micronesia", "FM"),
    ("Cote d'Ivoire", "CI"),
    ("Côte d'Ivoire", "CI"),
    ("Côte d’Ivoire", "CI"),
    ("Ivory Coast", "CI"),
    ("Turkey", "TR"),
    ("Türkiye", "TR"),
    ("Turkiye", "TR"),
    ("Czech Republic", "CZ"),
    ("Czechia", "CZ"),
    ("Netherlands", "NL"),
    ("the Netherlands", "NL"),
    ("United Kingdom", "GB"),
    ("United States", "US"),
    ("United States of America", "US"),
    ("North Macedonia", "MK"),
    ("Macedonia", "MK"),
    ("Eswatini", "SZ"),
    ("Swaziland", "SZ"),
    ("Cabo Verde", "CV"),
    ("Cape Verde", "CV"),
    ("Timor-Leste", "TL"),
    ("East Timor", "TL"),
    ("Saint Kitts and Nevis", "KN"),
    ("St. Kitts and Nevis", "KN"),
    ("St Kitts & Nevis", "KN"),
    ("Saint Lucia", "LC"),
    ("St. Lucia", "LC"),
    ("Saint Vincent and the Grenadines", "VC"),
    ("St. Vincent and the Grenadines", "VC"),
    ("Saint Barthelemy", "BL"),
    ("Saint Barthélemy", "BL"),
    ("St. Barthelemy", "BL"),
    ("Saint Martin", "MF"),
    ("St. Martin", "MF"),
    ("Sint Maarten", "SX"),
    ("Saint Pierre and Miquelon", "PM"),
    ("St. Pierre and Miquelon", "PM"),
    ("Saint Helena", "SH"),
    ("St. Helena", "SH"),
    ("Holy See", "VA"),
    ("Vatican City", "VA"),
    ("Kosovo", "XK"),
    ("Palestinian Territories", "PS"),
    ("West Bank", "PS"),
    ("Gaza", "PS"),
    ("Bahamas, The", "BS"),
    ("The Bahamas", "BS"),
    ("Bahamas", "BS"),
    ("Gambia, The", "GM"),
    ("The Gambia", "GM"),
    ("Gambia", "GM"),
    ("Brunei", "BN"),
    ("Sao Tome and Principe", "ST"),
    ("São Tomé and Príncipe", "ST"),
    ("Curacao", "CW"),
    ("Curaçao", "CW"),
    ("Reunion", "RE"),
    ("Réunion", "RE"),
    ("Aland Islands", "AX"),
    ("Åland Islands", "AX"),
    ("Falkland Islands", "FK"),
    ("Virgin Islands, British", "VG"),
    ("British Virgin Islands", "VG"),
    ("Virgin Islands, U.S.", "VI"),
    ("U.S. Virgin Islands", "VI"),
    ("Congo", "CG"),
    ("Republic of the Congo", "CG"),
    ("Congo, Republic of the", "CG"),
    ("Congo, Democratic Republic of the", "CD"),
    ("Democratic Republic of the Congo", "CD"),
    ("Guinea", "GN"),
    ("Guinea-Bissau", "GW"),
    ("Equatorial Guinea", "GQ"),
    ("Papua New Guinea", "PG"),
    ("Niger", "NE"),
    ("Nigeria", "NG"),
    ("Dominica", "DM"),
    ("Dominican Republic", "DO"),
    ("Sudan", "SD"),
    ("South Sudan", "SS"),
]


@pytest.mark.parametrize(("name", "code"), ALIASES)
def test_code_of_aliases(name: str, code: str) -> None:
    assert code_of(name) == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("BURMA", "MM"),
        ("korea, south", "KR"),
        ("  The   Netherlands ", "NL"),
        ("THE NETHERLANDS", "NL"),
        ("Korea,\n  North", "KP"),
        ("Papua New\nGuinea", "PG"),
        ("Democratic People’s Republic of Korea", "KP"),
        ("Democratic People‘s Republic of Korea", "KP"),
        ("Burma.", "MM"),
        ("the United Kingdom.", "GB"),
        ("Guinea Bissau", "GW"),
        ("Trinidad & Tobago", "TT"),
    ],
)
def test_code_of_tolerates_case_whitespace_apostrophes_the_and_period(name: str, code: str) -> None:
    assert code_of(name) == code


@pytest.mark.parametrize("name", ["Korea", "the Korea", "Virgin Islands", "", "the", "Atlantis", "Chinese", "EU"])
def test_code_of_unknown_or_ambiguous(name: str) -> None:
    assert code_of(name) is None


# --- find_countries ------------------------------------------------------------------------------------


def test_realistic_list_in_order() -> None:
    text = (
        "Australia, Belgium, Canada, Denmark, Finland, France, Germany, Ireland, Italy, Japan, the Netherlands, "
        "New Zealand, Norway, Republic of Korea, Spain, Sweden, Taiwan, and the United Kingdom"
    )
    assert " ".join(codes(text)) == "AU BE CA DK FI FR DE IE IT JP NL NZ NO KR ES SE TW GB"
    found = find_countries(text)
    assert [s for s, _, _, _ in found] == sorted(s for s, _, _, _ in found)
    assert all(text[s:e] == w for s, e, _, w in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Papua New Guinea", [("PG", "Papua New Guinea")]),
        ("Guinea-Bissau", [("GW", "Guinea-Bissau")]),
        ("Equatorial Guinea and Guinea", [("GQ", "Equatorial Guinea"), ("GN", "Guinea")]),
        ("Nigeria and Niger", [("NG", "Nigeria"), ("NE", "Niger")]),
        ("Korea, North", [("KP", "Korea, North")]),
        ("Korea, South", [("KR", "Korea, South")]),
        ("North Korea", [("KP", "North Korea")]),
        ("South Korea", [("KR", "South Korea")]),
        ("Democratic People's Republic of Korea", [("KP", "Democratic People's Republic of Korea")]),
        ("Republic of Korea", [("KR", "Republic of Korea")]),
        ("Congo, Democratic Republic of the", [("CD", "Congo, Democratic Republic of the")]),
        ("Democratic Republic of the Congo", [("CD", "Democratic Republic of the Congo")]),
        ("Republic of the Congo", [("CG", "Republic of the Congo")]),
        ("Congo, Republic of the", [("CG", "Congo, Republic of the")]),
        ("Congo", [("CG", "Congo")]),
        ("People's Republic of China", [("CN", "People's Republic of China")]),
        ("Dominican Republic", [("DO", "Dominican Republic")]),
        ("South Sudan and Sudan", [("SS", "South Sudan"), ("SD", "Sudan")]),
        ("American Samoa", [("AS", "American Samoa")]),
        ("South Georgia and the South Sandwich Islands", [("GS", "South Georgia and the South Sandwich Islands")]),
        ("United States Minor Outlying Islands", [("UM", "United States Minor Outlying Islands")]),
        ("Micronesia, Federated States of", [("FM", "Micronesia, Federated States of")]),
        ("Virgin Islands, U.S.", [("VI", "Virgin Islands, U.S.")]),
    ],
)
def test_longest_name_wins(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(c, w) for _, _, c, w in find_countries(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Omani nationals",
        "Chadian officials",
        "Indiana and Georgian",
        "Jerseyan",
        "Nigerian",
        "Romanian",  # contains "Oman"
        "Somalian",  # contains "Mali"
        "Britain's Indian Ocean",  # "India" inside "Indian"
        "Koreas",
        "Perus",
    ],
)
def test_no_match_inside_a_longer_word(text: str) -> None:
    assert find_countries(text) == []


@pytest.mark.parametrize(
    "text",
    ["kaolin, also known as china clay", "the mali project", "cuba libre", "a turkey sandwich", "georgia"],
)
def test_lowercase_names_do_not_match(text: str) -> None:
    assert find_countries(text) == []


def test_lowercase_word_does_not_hide_a_following_country() -> None:
    assert codes("china clay shipped from China to Chad") == ["CN", "TD"]


def test_all_caps_table_text() -> None:
    table = "KOREA, NORTH      X   X\nKOREA, SOUTH      X\nCONGO, DEMOCRATIC REPUBLIC OF THE   X\nBAHAMAS, THE\n"
    assert codes(table) == ["KP", "KR", "CD", "BS"]
    assert written(table) == ["KOREA, NORTH", "KOREA, SOUTH", "CONGO, DEMOCRATIC REPUBLIC OF THE", "BAHAMAS, THE"]


def test_span_excludes_leading_the() -> None:
    text = "Exports to the Netherlands and The Gambia."
    assert find_countries(text) == [(15, 26, "NL", "Netherlands"), (35, 41, "GM", "Gambia")]


def test_the_suffix_form_of_ear_tables() -> None:
    assert written("Bahamas, The\nBahrain") == ["Bahamas, The", "Bahrain"]
    # "The" starting the next name is not the suffix of the previous one
    assert written("Gambia, The Netherlands") == ["Gambia", "Netherlands"]
    assert written("Gambia, the two countries") == ["Gambia"]


def test_curly_apostrophes_and_accents_in_text() -> None:
    text = "Côte d’Ivoire, Cote d'Ivoire, Democratic People‘s Republic of Korea, Curacao, Curaçao, Türkiye, Turkiye"
    assert codes(text) == ["CI", "CI", "KP", "CW", "CW", "TR", "TR"]
    assert written(text)[0] == "Côte d’Ivoire"


def test_name_split_across_lines() -> None:
    text = "destinations: Papua New\nGuinea, Korea,\n    North, and Saint Vincent and\nthe Grenadines"
    names = ["Papua New\nGuinea", "Korea,\n    North", "Saint Vincent and\nthe Grenadines"]
    starts = [text.index(n) for n in names]
    assert find_countries(text) == [
        (starts[0], starts[0] + len(names[0]), "PG", names[0]),
        (starts[1], starts[1] + len(names[1]), "KP", names[1]),
        (starts[2], starts[2] + len(names[2]), "VC", names[2]),
    ]
    assert find_countries(text)[0][:2] == (14, 30)


def test_korea_alone_is_ambiguous() -> None:
    assert find_countries("exports to Korea and the Korean peninsula") == []


def test_saint_and_st_spellings_in_text() -> None:
    text = "St. Kitts and Nevis, Saint Lucia, St Vincent & the Grenadines, St. Pierre and Miquelon"
    assert codes(text) == ["KN", "LC", "VC", "PM"]


def test_possessive_and_hyphenated_compounds() -> None:
    assert codes("China's export controls on U.S.-Russia trade") == ["CN", "RU"]


def test_ear_paragraph_with_several_forms() -> None:
    text = (
        "(d) Country Group D:5. The following destinations are subject to a U.S. arms embargo: Afghanistan, "
        "Belarus, Burma, Cambodia, Central African Republic, China, Congo, Democratic Republic of the, Cuba, "
        "Cyprus, Eritrea, Haiti, Iran, Iraq, Korea, North, Lebanon, Libya, Macau, Nicaragua, Russia, Somalia, "
        "South Sudan, Sudan, Syria, Venezuela, and Zimbabwe."
    )
    assert " ".join(codes(text)) == "AF BY MM KH CF CN CD CU CY ER HT IR IQ KP LB LY MO NI RU SO SS SD SY VE ZW"


def test_results_are_in_text_order_and_spans_are_exact() -> None:
    text = "Cuba; Iran; the Republic of Korea; Syria."
    found = find_countries(text)
    assert [c for _, _, c, _ in found] == ["CU", "IR", "KR", "SY"]
    for start, end, _, w in found:
        assert text[start:end] == w
    assert found[2][:2] == (text.index("Republic"), text.index(";", text.index("Republic")))


def test_empty_and_no_country_text() -> None:
    assert find_countries("") == []
    assert find_countries("The Bureau of Industry and Security amends the EAR.") == []


def test_find_countries_is_fast_on_a_paragraph() -> None:
    para = (
        "This rule revises license requirements for items destined to the People's Republic of China, Macau, "
        "and destinations in Country Group D:5, including Burma and Korea, North, and adds entities in "
        "Russia, Iran and the United Arab Emirates to the Entity List. "
    ) * 10
    para = para[:2000]
    find_countries(para)  # build the matcher once
    runs = 200
    t0 = time.perf_counter()
    for _ in range(runs):
        find_countries(para)
    per_call = (time.perf_counter() - t0) / runs
    assert per_call < 0.005  # typically ~0.3 ms; generous bound for slow CI machines
