"""Throughput and peak memory of figure + position extraction on ~2,000-character articles.

Run on demand (not by pytest):  .venv/bin/python benchmarks/bench_extract.py [--rounds N]
Kiwi is loaded before timing starts. Each round reads the seeds cut or repeated to about 2,000
characters; texts differ per round so the morphology cache cannot serve a repeat.
"""
from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from worker.claims.figures import extract_figures
from worker.claims.lexicon import load_lexicon
from worker.claims.morph import tokenize
from worker.normalize import normalize_text

ROOT = Path(__file__).resolve().parent.parent
ARTICLE_CHARS = 2000


def articles(rounds: int) -> list[str]:
    """``rounds`` copies of each seed, cut to ~2,000 characters and made distinct by a first line."""
    seeds = [normalize_text(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    out = []
    for r in range(rounds):
        for i, text in enumerate(seeds):
            body = (text * 2)[:ARTICLE_CHARS]
            out.append(f"기사 {r}-{i}: 시험용 제목\n{body}")
    return out


def positions_or_none() -> Callable[..., object] | None:
    try:
        from worker.claims.positions import extract_positions
    except ImportError:
        return None
    return extract_positions


def run(name: str, texts: list[str], fn: Callable[[str], object],
        between: Callable[[], None] = lambda: None) -> tuple[str, int, float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    for text in texts:
        fn(text)
        between()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return name, len(texts), len(texts) / elapsed, peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--cold", action="store_true",
                    help="forget the lexicon's remembered mentions after each article (the rounds repeat the "
                         "seeds' sentences, which a warm cache serves across articles)")
    a = ap.parse_args()
    lexicon = load_lexicon(ROOT / "config")
    between = lexicon.forget if a.cold else (lambda: None)
    tokenize("시작 전에 형태소 분석기를 불러온다.")  # Kiwi start-up is not measured
    extract_figures("워밍업\n매출은 10% 늘었다.", lexicon)
    positions = positions_or_none()
    rows = [run("figures", articles(a.rounds), lambda t: extract_figures(t, lexicon), between)]
    if positions is not None:
        def both(t: str) -> None:
            extract_figures(t, lexicon)
            positions(t, lexicon)
        rows.append(run("figures+positions", articles(a.rounds + 1)[-4 * a.rounds:], both, between))
    print(f"{'stage':<20}{'articles':>10}{'articles/s':>12}{'peak MiB (py)':>15}")
    for name, n, rate, peak in rows:
        print(f"{name:<20}{n:>10}{rate:>12.1f}{peak:>15.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS {rss:.0f} MiB (Kiwi model included); article size ~{ARTICLE_CHARS} chars")


if __name__ == "__main__":
    main()
