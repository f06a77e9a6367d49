"""A small, fast YAML emitter for JSON-like data in the style of Go's ``gopkg.in/yaml.v2``.

Upstream writes meta-data with yaml.v2: block style, two-space indent, sequences not indented under their
key, plain scalars where they read back as the same string and double quotes otherwise (``"1.0"``),
no line folding. Rendering is on the hot path of a boot storm, so this is hand-written instead of going
through PyYAML's pure-Python emitter; tests prove ``yaml.safe_load(dump(x)) == x``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

_RESOLVER = yaml.resolver.Resolver()
_PLAIN_CANDIDATE = re.compile(r"[A-Za-z0-9/._+(~$][^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]*")
_SAFE_ASCII = re.compile(r"[ -!#-\[\]-~]*")


def _plain_ok(text: str) -> bool:
    if not _PLAIN_CANDIDATE.fullmatch(text):
        return False
    if text.endswith((":", " ")) or ": " in text or " #" in text:
        return False
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag == "tag:yaml.org,2002:str"


def _double_quoted(text: str) -> str:
    if _SAFE_ASCII.fullmatch(text):
        return f'"{text}"'
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF)
            or 0xD800 <= code <= 0xDFFF
        ):
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def scalar(value: Any) -> str:
    """One scalar (or empty collection) as YAML text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        # YAML 1.1 needs a dot in a float with an exponent ("1e-05" would read back as a string).
        if "." not in text and "e" in text:
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa}.0e{exponent if exponent[0] in '+-' else '+' + exponent}"
        return text
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    text = str(value)
    return text if _plain_ok(text) else _double_quoted(text)


def _mapping(data: Mapping[str, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for key, value in data.items():
        name = scalar(str(key))
        if isinstance(value, Mapping) and value:
            out.append(f"{pad}{name}:")
            _mapping(value, indent + 2, out)
        elif isinstance(value, (list, tuple)) and value:
            out.append(f"{pad}{name}:")
            _sequence(value, indent, out)
        else:
            out.append(f"{pad}{name}: {scalar(value)}")


def _sequence(items: Sequence[Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, (Mapping, list, tuple)) and item:
            sub: list[str] = []
            if isinstance(item, Mapping):
                _mapping(item, indent + 2, sub)
            else:
                _sequence(item, indent + 2, sub)
            sub[0] = f"{pad}- {sub[0][indent + 2 :]}"
            out.extend(sub)
        else:
            out.append(f"{pad}- {scalar(item)}")


def dump(data: Mapping[str, Any]) -> str:
    """A mapping as a block-style YAML document ending in a newline (``{}\\n`` when empty)."""
    if not data:
        return "{}\n"
    out: list[str] = []
    _mapping(data, 0, out)
    return "\n".join(out) + "\n"
