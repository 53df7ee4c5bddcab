"""Just enough of a PDF reader to get the text back out of our own letters (fpdf2 output: Type0 fonts with
Identity-H encoding and a ToUnicode CMap), so tests can assert on the words without a PDF library."""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*)\r?\nendstream", re.S)
_FONT_REF = re.compile(rb"/(F\d+) (\d+) 0 R")
_TO_UNICODE = re.compile(rb"/ToUnicode (\d+) 0 R")
_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>")
_SET_FONT = re.compile(rb"/(F\d+) [\d.]+ Tf")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    found: dict[int, tuple[bytes, bytes | None]] = {}
    for match in _OBJECT.finditer(pdf):
        body = match.group(2)
        stream = _STREAM.search(body)
        data = None
        if stream:
            data = stream.group(1)
            if b"/FlateDecode" in body[: stream.start()]:
                data = zlib.decompress(data)
        found[int(match.group(1))] = (body, data)
    return found


def pdf_text(pdf: bytes) -> str:
    """The text shown on all pages, one line per text object."""
    objs = objects(pdf)
    cmaps: dict[bytes, dict[int, str]] = {}
    for body, _ in objs.values():
        if b"/Font <<" in body:
            for name, ref in _FONT_REF.findall(body):
                to_unicode = _TO_UNICODE.search(objs[int(ref)][0])
                assert to_unicode, f"font {name!r} has no ToUnicode map"
                cmap = objs[int(to_unicode.group(1))][1] or b""
                cmaps[name] = {
                    int(c, 16): bytes.fromhex(u.decode()).decode("utf-16-be") for c, u in _BFCHAR.findall(cmap)
                }
    lines: list[str] = []
    for body, data in objs.values():
        if data is not None and b"/Type /Page" not in body and b" Tj" in data:
            lines.extend(_shown(data, cmaps))
    return "\n".join(lines)


def _shown(content: bytes, cmaps: dict[bytes, dict[int, str]]) -> list[str]:
    lines, current, font, i = [], "", None, 0
    while i < len(content):
        if content[i : i + 1] == b"(":
            raw, i = _literal(content, i + 1)
            cmap = cmaps[font]
            current += "".join(cmap.get(int.from_bytes(raw[k : k + 2], "big"), "?") for k in range(0, len(raw), 2))
            continue
        if content.startswith(b"ET", i) and current:
            lines.append(current)
            current = ""
        match = _SET_FONT.match(content, i)
        if match:
            font = match.group(1)
            i = match.end()
            continue
        i += 1
    return lines


def _literal(content: bytes, i: int) -> tuple[bytes, int]:
    out, depth = bytearray(), 1
    while True:
        ch = content[i : i + 1]
        if ch == b"\\":
            nxt = content[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", content[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 1 + len(octal.group(0))
                continue
            out += _ESCAPES.get(nxt, nxt)
            i += 2
            continue
        if ch == b"(":
            depth += 1
        elif ch == b")":
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out += ch
        i += 1
