"""Remove secret values, and the encoded forms a process may write them in, from text.

A secret leaves a process in more shapes than its raw text: in an HTTP Basic
header (base64 of ``user:secret``), in a URL (percent-encoded), inside a JSON
document (escaped), as hex. ``Scrubber`` works out, once per set of secrets,
every such form (and one regular expression over all of them, a quick first
check for short texts), finds each occurrence of each form and replaces it with
``***``. Occurrences that overlap (two secrets sharing characters) are merged,
so no fragment of either survives.

Text that arrives in pieces (a kernel's log, a cell's output) goes through a
``StreamScrubber``: it holds back the shortest tail that could still be the
start of a secret, so a value split across two writes is caught as a whole.

This module sits in the process layer because both sides use it: the kernel
scrubs what it writes (trace, persisted values), the executor everything else.
"""

from __future__ import annotations

import base64
import codecs
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from atomnb.process.parameters import REDACTED

__all__ = [
    "MIN_SCRUB_LENGTH",
    "ByteStreamScrubber",
    "Scrubber",
    "StreamScrubber",
    "encoded_forms",
]

#: Values shorter than this are not scrubbed from free text (a secret "1" would
#: otherwise erase every digit); they are still never injected into a notebook.
MIN_SCRUB_LENGTH = 4

# Characters of a base64 text that depend only on the secret's bytes when the secret
# starts at byte offset 0, 1 or 2 of a 3-byte group (the rest mix in other bytes).
_B64_SKIP = {0: 0, 1: 2, 2: 3}
_MIN_FRAGMENT = 8
#: Below this length a text is first checked with one regular expression search.
_SHORT_TEXT = 4096


def _base64_forms(raw: bytes) -> set[str]:
    forms: set[str] = set()
    for alphabet in (base64.b64encode, base64.urlsafe_b64encode):
        whole = alphabet(raw).decode("ascii")
        forms.update((whole, whole.rstrip("=")))
        for offset, skip in _B64_SKIP.items():
            # The secret inside a longer base64 text (``user:secret`` of a Basic header):
            # keep only the characters its own bytes decide, at each of the 3 alignments.
            data = b"\0" * offset + raw
            text = alphabet(data).decode("ascii")
            full, rest = divmod(len(data), 3)
            fragment = text[skip : 4 * full + rest]
            if len(fragment) >= _MIN_FRAGMENT:  # shorter ones would hit unrelated base64 data
                forms.add(fragment)
    return forms


def encoded_forms(value: str) -> set[str]:
    """Every form of ``value`` the scrubber looks for: raw, JSON-, Python- and HTML-escaped,
    URL-encoded, base64 (standard and URL-safe, padded or not, at any alignment) and hex."""
    raw = value.encode("utf-8")
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        html.escape(value),  # a table of documents shown as HTML in the notebook
        html.escape(value, quote=False),
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        raw.hex(),
        raw.hex().upper(),
    }
    forms |= _base64_forms(raw)
    return {f for f in forms if len(f) >= MIN_SCRUB_LENGTH}


class Scrubber:
    """Replaces every secret value of one set, in every encoded form, with ``***``."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values = frozenset(
            v for v in values if isinstance(v, str) and len(v) >= MIN_SCRUB_LENGTH
        )
        patterns = sorted(
            {form for value in self.values for form in encoded_forms(value)},
            key=lambda f: (-len(f), f),
        )
        self.max_length = len(patterns[0]) if patterns else 0
        self._patterns = patterns
        # One search of an alternation answers "any secret here?" for short texts quickly;
        # str.find per form is faster on long ones and sees overlapping occurrences too.
        self._any = re.compile("|".join(re.escape(p) for p in patterns)) if patterns else None

    def __bool__(self) -> bool:
        return self._any is not None

    def with_values(self, values: Iterable[str]) -> Scrubber:
        """A scrubber for this set and ``values`` together."""
        extra = frozenset(values) - self.values
        return Scrubber(self.values | extra) if extra else self

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Merged (start, end) spans of every occurrence of any form, in order."""
        if self._any is None or not text:
            return []
        if len(text) < _SHORT_TEXT and self._any.search(text) is None:
            return []
        found: list[tuple[int, int]] = []
        for pattern in self._patterns:
            start = text.find(pattern)
            while start != -1:
                found.append((start, start + len(pattern)))
                start = text.find(pattern, start + 1)
        merged: list[tuple[int, int]] = []
        for start, end in sorted(found):
            if merged and start <= merged[-1][1]:
                if end > merged[-1][1]:
                    merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        return merged

    def scrub(self, text: str) -> str:
        """``text`` with every secret form replaced by ``***``."""
        spans = self.spans(text)
        return _redact(text, spans) if spans else text

    def pending(self, text: str) -> int:
        """Length of the longest tail of ``text`` that could be the start of a secret form."""
        tail = text[-(self.max_length - 1) :] if self.max_length > 1 else ""
        longest = 0
        for pattern in self._patterns:
            start = tail.find(pattern[0])
            while start != -1 and len(tail) - start > longest:
                rest = tail[start:]
                if len(rest) < len(pattern) and pattern.startswith(rest):
                    longest = len(rest)  # the earliest start is this pattern's longest tail
                    break
                start = tail.find(pattern[0], start + 1)
        return longest

    def stream(self) -> StreamScrubber:
        return StreamScrubber(self)


class StreamScrubber:
    """Scrubs text that arrives in chunks; a secret split across two chunks is still caught.

    ``feed`` returns what can be written now; ``close`` the rest. The held-back tail
    is never longer than the longest secret form, and only as long as it could still
    become one. ``scrubber`` may be replaced between chunks (a warm kernel learns its
    run's secrets only when it is handed the run).
    """

    def __init__(self, scrubber: Scrubber | None = None) -> None:
        self.scrubber = scrubber or Scrubber()
        self._held = ""

    def feed(self, chunk: str) -> str:
        text = self._held + chunk
        scrubber = self.scrubber
        spans = scrubber.spans(text)
        cut = len(text) - scrubber.pending(text)
        for start, end in spans:
            if start < cut < end:
                cut = start
                break
        self._held = text[cut:]
        return _redact(text[:cut], [(s, e) for s, e in spans if e <= cut])

    def close(self) -> str:
        text, self._held = self._held, ""
        return self.scrubber.scrub(text)


class ByteStreamScrubber:
    """A ``StreamScrubber`` over bytes (UTF-8; bytes that are not stay as they were)."""

    def __init__(self, scrubber: Scrubber | None = None) -> None:
        self.text = StreamScrubber(scrubber)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")

    def feed(self, chunk: bytes) -> bytes:
        out = self.text.feed(self._decoder.decode(chunk))
        return out.encode("utf-8", errors="surrogateescape")

    def close(self) -> bytes:
        out = self.text.feed(self._decoder.decode(b"", final=True)) + self.text.close()
        return out.encode("utf-8", errors="surrogateescape")


def _redact(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts += [text[last:start], REDACTED]
        last = end
    parts.append(text[last:])
    return "".join(parts)
