"""The text of a PDF that fpdf2 wrote, for tests (no PDF library is installed)."""

from __future__ import annotations

import re
import zlib

_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


def _literal(stream: bytes, i: int) -> tuple[bytes, int]:
    """The literal string opening at ``stream[i]`` (``(``), escapes undone, and the index after
    it (PDF 32000-1, 7.3.4.2: balanced parentheses need no escape; a backslash escapes the next
    character or starts an octal code)."""
    out, depth, i = bytearray(), 1, i + 1
    while depth:
        char = stream[i]
        if char == 0x5C:  # backslash
            octal = re.match(rb"[0-7]{1,3}", stream[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += _ESCAPES.get(stream[i + 1], bytes([stream[i + 1]]))
            i += 2
            continue
        depth += {0x28: 1, 0x29: -1}.get(char, 0)
        if depth:
            out.append(char)
        i += 1
    return bytes(out), i


def _strings(stream: bytes) -> list[bytes]:
    """What each ``Tj`` and ``TJ`` of a content stream shows (a ``TJ`` array's strings joined)."""
    found: list[bytes] = []
    array: list[bytes] | None = None
    i = 0
    while i < len(stream):
        char = stream[i]
        if char == 0x28:  # (
            text, i = _literal(stream, i)
            if array is not None:
                array.append(text)
            elif stream[i:].lstrip().startswith(b"Tj"):
                found.append(text)
            continue
        if char == 0x5B:  # [
            array = []
        elif char == 0x5D and array is not None:  # ]
            if stream[i + 1 :].lstrip().startswith(b"TJ"):
                found.append(b"".join(array))
            array = None
        i += 1
    return found


def pdf_text(pdf: bytes) -> str:
    """The text of an fpdf2 PDF, one line per text-showing operator: its content streams inflated,
    each string's 2-byte glyph ids mapped back through the font's ToUnicode CMap (no PDF library
    is installed; this reads what fpdf2 writes)."""
    streams = []
    # Each stream's length from its dictionary: compressed bytes may end in what looks like a
    # line break, so "up to endstream" is not the stream.
    for match in re.finditer(rb"/Length (\d+)[^>]*>>\s*stream\r?\n", pdf):
        data = pdf[match.end() : match.end() + int(match.group(1))]
        try:
            streams.append(zlib.decompress(data))
        except zlib.error:
            streams.append(data)
    glyphs: dict[int, str] = {}
    for stream in streams:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
            for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                glyphs[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    lines = []
    for stream in streams:
        # Content streams select a font ("/F1 9.00 Tf"); font files and CID maps are binary.
        if not re.search(rb"/F\d+ [\d.]+ Tf", stream):
            continue
        for raw in _strings(stream):
            lines.append(
                "".join(glyphs.get(int.from_bytes(raw[i : i + 2]), "?") for i in range(0, len(raw), 2))
            )
    return "\n".join(lines)
