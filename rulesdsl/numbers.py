"""Exact numbers, written the ways regulations and engineers write them.

Thresholds such as 10^26 operations must compare exactly: ``10**26 >= 1e26`` is False in Python because
``1e26`` is the float 100000000000000004764729344. Everything here returns :class:`~decimal.Decimal` built
from the *text*, never from a float.

Accepted spellings: ``4800``, ``26_900_000``, ``26,900,000`` (only via :func:`parse_number` with
``allow_commas``), ``5.92``, ``10^26``, ``5 x 10^25`` / ``5 × 10^25`` / ``5*10^25``, ``1e26``, ``3.2E+25``.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation, localcontext

# Arithmetic here must never round: a context far wider than any number a regulation writes
# (the caller's context, 28 digits by default, would silently round 123456789012345678901234567890).
_EXACT = Context(prec=1000, Emax=10_000, Emin=-10_000)

_PLAIN = re.compile(r"[+-]?(?:\d[\d_]*)(?:\.\d[\d_]*)?")
_E = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d+")
_SCI = re.compile(
    r"(?:(?P<m>[+-]?\d+(?:\.\d+)?)\s*(?:x|X|×|\*)\s*)?10\s*(?:\^|\*\*)\s*(?P<e>[+-]?\d+)"
)
_COMMAS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


class NumberFormatError(ValueError):
    """The text is not a number in any accepted spelling."""


def parse_number(text: str, *, allow_commas: bool = False) -> tuple[Decimal, str]:
    """Parse ``text`` exactly. Returns the value and its notation (``"plain"`` or ``"sci"``)."""
    if len(text) > 1000:
        raise NumberFormatError("number too long")
    with localcontext(_EXACT):
        value, notation = _parse_number(text, allow_commas)
        check_range(value, text)
        return value, ("plain" if value == 0 else notation)


MAX_EXPONENT = 400


def check_range(value: Decimal, text: str = "") -> None:
    """Regulations never need more than 10^400; bounding the magnitude keeps every value printable."""
    if value != 0 and abs(value.adjusted()) > MAX_EXPONENT:
        raise NumberFormatError(f"number out of range (magnitude beyond 10^{MAX_EXPONENT}): {text[:40]!r}")


def _parse_number(text: str, allow_commas: bool) -> tuple[Decimal, str]:
    s = text.strip()
    if not s:
        raise NumberFormatError("empty number")
    m = _SCI.fullmatch(s)
    if m:
        mant = Decimal(m.group("m")) if m.group("m") else Decimal(1)
        exp = int(m.group("e"))
        if abs(exp) > 400:
            raise NumberFormatError(f"exponent out of range in {text!r}")
        return _normal(mant.scaleb(exp)), "sci"
    if _E.fullmatch(s):
        mant_s, exp_s = re.split(r"[eE]", s)
        exp = int(exp_s)
        if abs(exp) > 400:
            raise NumberFormatError(f"exponent out of range in {text!r}")
        return _normal(Decimal(mant_s).scaleb(exp)), "sci"
    if _PLAIN.fullmatch(s) and "__" not in s and not s.endswith("_") and "_." not in s:
        try:
            return _normal(Decimal(s.replace("_", ""))), "plain"
        except InvalidOperation as exc:  # pragma: no cover - regex already guards
            raise NumberFormatError(f"not a number: {text!r}") from exc
    if allow_commas and _COMMAS.fullmatch(s):
        return _normal(Decimal(s.replace(",", ""))), "plain"
    raise NumberFormatError(f"not a number: {text!r}")


def _normal(d: Decimal) -> Decimal:
    """Canonical form: integers without exponent or trailing ``.0``; decimals without trailing zeros."""
    with localcontext(_EXACT):
        if d == d.to_integral_value():
            return Decimal(int(d))
        return d.normalize()


def scale(mantissa: Decimal, power_of_ten: Decimal) -> Decimal:
    """``mantissa x power_of_ten`` without rounding (for ``5 x 10^25``)."""
    with localcontext(_EXACT):
        value = _normal(mantissa * power_of_ten)
    check_range(value, f"{mantissa} x {power_of_ten}")
    return value


def to_decimal(value: object) -> Decimal:
    """Coerce an inventory value to an exact Decimal. Floats go through their shortest repr (``1e26``)."""
    if isinstance(value, bool):
        raise NumberFormatError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal):
        return _normal(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NumberFormatError(f"not a finite number: {value!r}")
        return _normal(Decimal(repr(value)))
    if isinstance(value, str):
        return parse_number(value, allow_commas=True)[0]
    raise NumberFormatError(f"expected a number, got {type(value).__name__}")


def format_number(value: Decimal, notation: str = "plain") -> str:
    """Print a number so that :func:`parse_number` gives back the same value and notation."""
    with localcontext(_EXACT):
        return _format_number(value, notation)


def _format_number(value: Decimal, notation: str) -> str:
    value = _normal(value)
    if notation == "sci" and value != 0:
        sign, digits, exp = value.as_tuple()
        assert isinstance(exp, int)
        ds = "".join(map(str, digits)).rstrip("0")
        exp += len(digits) - len(ds)
        # mantissa m with one digit before the point: value = m x 10^k
        k = exp + len(ds) - 1
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        prefix = "-" if sign else ""
        if mant == "1":
            return f"{prefix}10^{k}"
        return f"{prefix}{mant} x 10^{k}"
    if value == value.to_integral_value():
        n = int(value)
        return f"{n:_}" if abs(n) >= 100_000 else str(n)
    return format(value, "f")
