"""Secret scrubbing: what it costs to scrub every form of a secret from what a run writes.

Every byte a process writes on an atom (kernel log, output notebook, trace) goes
through ``Scrubber``: the raw value and its JSON-, Python-, HTML-, URL-, hex- and
base64-encoded forms (base64 at three alignments) are replaced with ``***``.
The baseline, measured on the same text in the same process, is the least any
scrubber must do: ``str.replace`` of the raw values only. Both run over log-like
text (lines of JSON and prose) with a few secrets planted in several forms, in
one piece and through ``StreamScrubber`` in 64 KiB writes (how a kernel log
arrives). The check that both left no raw value behind is part of the run.

Last line: ``RESULT name=scrubbing mb=... scrub_mb_s=... stream_mb_s=...
replace_mb_s=... ratio=...`` (ratio: scrub time over replace time).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import time
from collections.abc import Callable

from atomnb.process.scrubber import Scrubber

_SECRETS = ("s3cr3t-pa55word!", "tok_9f8e7d6c5b4a39281706", "AKIAEXAMPLEKEY12345")


def _text(megabytes: float, seed: int = 7) -> str:
    """Log-like lines; about one line in 500 carries a secret in one of its forms."""
    rng = random.Random(seed)
    words = [
        "order",
        "invoice",
        "shipped",
        "customer",
        "total",
        "line",
        "item",
        "warehouse",
        "retry",
        "ok",
    ]
    lines: list[str] = []
    size = 0
    basic = base64.b64encode(f"svc:{_SECRETS[0]}".encode()).decode()
    planted = [
        _SECRETS[0],
        json.dumps({"password": _SECRETS[1]}),
        f"Authorization: Basic {basic}",
        _SECRETS[2].encode().hex(),
        f"https://h/x?key={_SECRETS[1]}",
    ]
    while size < megabytes * 1_000_000:
        if rng.random() < 0.002:
            line = f"{time.time():.3f} INFO call {rng.choice(planted)}"
        elif rng.random() < 0.5:
            record = {"id": rng.randrange(10**6), "total": rng.random() * 1000}
            line = json.dumps({**record, "w": rng.choice(words)})
        else:
            line = " ".join(rng.choice(words) for _ in range(12))
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _best(run: Callable[[], str], repeats: int) -> tuple[float, str]:
    times = []
    out = ""
    for _ in range(repeats):
        started = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=32.0, help="size of the text (MB)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    text = _text(args.mb)
    megabytes = len(text.encode()) / 1_000_000
    scrubber = Scrubber(_SECRETS)

    def replace_only() -> str:
        out = text
        for value in _SECRETS:
            out = out.replace(value, "***")
        return out

    def streamed() -> str:
        stream = scrubber.stream()
        step = 64 * 1024
        parts = [stream.feed(text[i : i + step]) for i in range(0, len(text), step)]
        parts.append(stream.close())
        return "".join(parts)

    replace_s, replaced = _best(replace_only, args.repeats)
    scrub_s, scrubbed = _best(lambda: scrubber.scrub(text), args.repeats)
    stream_s, streamed_out = _best(streamed, args.repeats)
    for label, out in (("replace", replaced), ("scrub", scrubbed), ("stream", streamed_out)):
        leaked = [v for v in _SECRETS if v in out]
        if leaked:
            raise SystemExit(f"{label} left a raw secret behind: {len(leaked)} value(s)")
    basic = base64.b64encode(f"svc:{_SECRETS[0]}".encode()).decode()
    if basic in scrubbed or basic in streamed_out:
        raise SystemExit("the Basic header form of a secret survived scrubbing")
    if basic not in replaced:
        raise SystemExit("the baseline was expected to miss the encoded forms")

    print(f"text: {megabytes:.1f} MB, {len(_SECRETS)} secrets planted in 5 forms")
    print(f"str.replace, raw values only: {megabytes / replace_s:8.1f} MB/s")
    print(f"Scrubber.scrub, every form:   {megabytes / scrub_s:8.1f} MB/s")
    print(f"StreamScrubber, 64 KiB writes:{megabytes / stream_s:8.1f} MB/s")
    print(
        f"RESULT name=scrubbing mb={megabytes:.1f} scrub_mb_s={megabytes / scrub_s:.1f} "
        f"stream_mb_s={megabytes / stream_s:.1f} replace_mb_s={megabytes / replace_s:.1f} "
        f"ratio={scrub_s / replace_s:.2f}"
    )


if __name__ == "__main__":
    main()
