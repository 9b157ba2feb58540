"""Near-duplicate story detection: how well word-shingle containment separates republished wire
copy from different stories on the same topic.

For each pair in tests/digest/story_pairs.py and each shingle length k in (3, 4, 5) it prints the
exact Jaccard similarity of the two shingle sets, their exact containment |A∩B| / min(|A|, |B|),
and the containment estimated from 128-permutation MinHash signatures (datasketch): the
intersection is estimated as J / (1 + J) * (|A| + |B|) from the MinHash Jaccard estimate J and the
exact set sizes, then divided by the smaller size. Per k it then prints the lowest same-story
containment, the highest different-story containment, the gap, a suggested threshold (the
midpoint), and whether a 64-band x 2-row LSH over the same signatures makes every same-story
pair a candidate (the two signatures agree on both hash values of at least one band).

The best k is the one with the widest gap in exact containment (the smaller k on a tie).
Signatures are seeded, so runs are repeatable.

Prints tables, then one JSON line:
{"bench": "stories", "k": ..., "threshold": ..., "min_same": ..., "max_different": ...,
 "candidates_all_same": ...}.

Needs datasketch (not a project dependency): /work/main/.venv/bin/pip install 'datasketch>=1.6'.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    from datasketch import MinHash
except ImportError:  # pragma: no cover - a hint, not a fallback
    sys.exit("bench/stories.py needs datasketch: .venv/bin/pip install 'datasketch>=1.6'")

from tests.digest.story_pairs import PAIRS, Pair  # noqa: E402

KS = (3, 4, 5)
NUM_PERM = 128
BANDS, ROWS = 64, 2
SEED = 20240601
WORDS = re.compile(r"\w+")  # str patterns are Unicode-aware; digits are word characters
MIN_WORDS, MAX_WORDS = 120, 450


def tokens(text: str) -> list[str]:
    return WORDS.findall(text.lower())


def shingles(words: list[str], k: int) -> set[str]:
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def signature(items: set[str]) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=SEED)
    m.update_batch([s.encode("utf-8") for s in sorted(items)])
    return m


def band_keys(m: MinHash) -> set[tuple[int, tuple[int, ...]]]:
    hv = [int(h) for h in m.hashvalues]
    return {(b, tuple(hv[b * ROWS : (b + 1) * ROWS])) for b in range(BANDS)}


@dataclass(frozen=True)
class Row:
    pair: Pair
    size_a: int
    size_b: int
    jaccard: float
    containment: float
    est_jaccard: float
    est_containment: float
    candidate: bool


def measure(pair: Pair, k: int) -> Row:
    a, b = shingles(tokens(pair.a), k), shingles(tokens(pair.b), k)
    inter = len(a & b)
    smaller = min(len(a), len(b))
    ma, mb = signature(a), signature(b)
    est_j = float(ma.jaccard(mb))
    est_inter = est_j / (1.0 + est_j) * (len(a) + len(b))
    return Row(
        pair=pair,
        size_a=len(a),
        size_b=len(b),
        jaccard=inter / len(a | b),
        containment=inter / smaller,
        est_jaccard=est_j,
        # the estimate can pass 1 when J is overestimated and the sizes differ; cap it
        est_containment=min(1.0, est_inter / smaller),
        candidate=bool(band_keys(ma) & band_keys(mb)),
    )


@dataclass(frozen=True)
class Summary:
    k: int
    min_same: float
    max_different: float
    min_same_est: float
    max_different_est: float
    lowest_same: str
    highest_different: str
    candidates_all_same: bool
    same_missed: list[str]
    different_candidates: int
    different_total: int

    @property
    def gap(self) -> float:
        return self.min_same - self.max_different

    @property
    def threshold(self) -> float:
        return (self.min_same + self.max_different) / 2

    @property
    def gap_est(self) -> float:
        return self.min_same_est - self.max_different_est


def summarise(k: int, rows: list[Row]) -> Summary:
    same = [r for r in rows if r.pair.same_story]
    diff = [r for r in rows if not r.pair.same_story]
    lo = min(same, key=lambda r: r.containment)
    hi = max(diff, key=lambda r: r.containment)
    return Summary(
        k=k,
        min_same=lo.containment,
        max_different=hi.containment,
        min_same_est=min(r.est_containment for r in same),
        max_different_est=max(r.est_containment for r in diff),
        lowest_same=lo.pair.name,
        highest_different=hi.pair.name,
        candidates_all_same=all(r.candidate for r in same),
        same_missed=[r.pair.name for r in same if not r.candidate],
        different_candidates=sum(r.candidate for r in diff),
        different_total=len(diff),
    )


def check_data() -> None:
    names = [p.name for p in PAIRS]
    if len(set(names)) != len(names):
        sys.exit("story_pairs: duplicate pair names")
    for p in PAIRS:
        for side, text in (("a", p.a), ("b", p.b)):
            n = len(tokens(text))
            if not MIN_WORDS <= n <= MAX_WORDS:
                print(f"warning: {p.name}.{side} has {n} words", file=sys.stderr)


def print_table(k: int, rows: list[Row]) -> None:
    width = max(len(r.pair.name) for r in rows)
    print(f"\nk = {k}")
    print(
        f"{'pair':<{width}}  same  |A|  |B|  exactJ  exactC   estC  lsh"
        f"\n{'-' * width}  ----  ---  ---  ------  ------  -----  ---"
    )
    ordered = sorted(rows, key=lambda r: (not r.pair.same_story, -r.containment))
    for r in ordered:
        print(
            f"{r.pair.name:<{width}}  {'yes' if r.pair.same_story else 'no':>4}"
            f"  {r.size_a:>3}  {r.size_b:>3}  {r.jaccard:6.3f}  {r.containment:6.3f}"
            f"  {r.est_containment:5.3f}  {'yes' if r.candidate else 'no':>3}"
        )


def print_summary(s: Summary) -> None:
    print(
        f"k={s.k}: lowest same {s.min_same:.3f} ({s.lowest_same}), "
        f"highest different {s.max_different:.3f} ({s.highest_different}), "
        f"gap {s.gap:+.3f}, threshold {s.threshold:.3f}"
    )
    print(
        f"      estimated: lowest same {s.min_same_est:.3f}, "
        f"highest different {s.max_different_est:.3f}, gap {s.gap_est:+.3f}"
    )
    missed = ", ".join(s.same_missed) if s.same_missed else "none"
    print(
        f"      LSH {BANDS}x{ROWS}: every same-story pair a candidate: "
        f"{str(s.candidates_all_same).lower()} (missed: {missed}); "
        f"different-story candidates {s.different_candidates}/{s.different_total}"
    )


def main() -> None:
    check_data()
    same_n = sum(p.same_story for p in PAIRS)
    print(
        f"{len(PAIRS)} pairs ({same_n} same story, {len(PAIRS) - same_n} different), "
        f"MinHash num_perm={NUM_PERM} seed={SEED}, LSH {BANDS} bands x {ROWS} rows"
    )
    summaries: list[Summary] = []
    for k in KS:
        rows = [measure(p, k) for p in PAIRS]
        print_table(k, rows)
        summaries.append(summarise(k, rows))
    print("\nsummary (containment = |A∩B| / min(|A|,|B|) over word k-shingles)")
    for s in summaries:
        print_summary(s)
    best = max(summaries, key=lambda s: (round(s.gap, 9), -s.k))
    print(
        json.dumps(
            {
                "bench": "stories",
                "k": best.k,
                "threshold": round(best.threshold, 4),
                "min_same": round(best.min_same, 4),
                "max_different": round(best.max_different, 4),
                "candidates_all_same": best.candidates_all_same,
            }
        )
    )


if __name__ == "__main__":
    main()
