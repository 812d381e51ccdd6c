"""Near-duplicate detection for articles: the same story under another URL or rewritten by
another outlet (pure functions).

SimHash over character shingles of the text without spaces and punctuation suits Korean, whose
particles make word shingles brittle. It only picks candidates: two texts whose 64-bit
fingerprints differ in at most ``CANDIDATE_BITS`` bits are compared by the Jaccard similarity of
their shingle sets, and are one story at ``SAME_STORY_JACCARD`` or more. The fingerprint alone
would either miss rewrites or, over thousands of articles, merge unrelated ones.

That Jaccard similarity is estimated from a *bottom-k sketch* stored with each article: the
``SKETCH_SIZE`` smallest shingle hashes (the same hashes SimHash uses, so it costs one pass). Two
sketches estimate the Jaccard similarity of the whole texts (exactly, when both texts have fewer
shingles than that; otherwise with a standard error of about sqrt(J(1-J)/k), 0.013 at J = 0.1), so
comparing a new article with earlier ones never loads or re-shingles their bodies, and still works
after retention has pruned them.
"""
from __future__ import annotations

import hashlib
from bisect import bisect_right
import re
import struct
from typing import NamedTuple

import numpy as np

SHINGLE = 4  # characters; Hangul syllables carry a lot, so 4 already separates stories well
#: Fingerprint distance under which two articles are compared in full. Measured on the fixtures:
#: rewrites by another outlet land at 12-21 bits; unrelated texts at 32 +- 4, so about 2 % of
#: them become candidates, and the Jaccard check below throws them out.
CANDIDATE_BITS = 24
#: Shingle-set Jaccard similarity from which two texts are one story. Measured: rewrites of one
#: story by two outlets 0.65-0.72; a follow-up story in the same words (a suspension, then the
#: resumption) 0.14; unrelated stories, even on one topic, under 0.05.
SAME_STORY_JACCARD = 0.5
#: Hashes kept per article for Jaccard estimates (8 bytes each).
SKETCH_SIZE = 512
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)


def content_hash(text: str) -> str:
    """A hash of the text with white space and punctuation removed (exact duplicates)."""
    return hashlib.sha256(_STRIP.sub("", text).encode("utf-8")).hexdigest()


#: Shingles read per text (older stores' fingerprints were made with this cap; texts are far shorter).
_MAX_SHINGLES = (1 << 20) - 1


class Fingerprint(NamedTuple):
    """What is stored of a text to find its near-duplicates and related stories."""

    simhash: int  # signed 64-bit SimHash (fits a BIGINT column)
    sketch: bytes  # bottom-k sketch: the smallest shingle hashes, ascending, 8 bytes each


def fingerprint(text: str) -> Fingerprint:
    """The SimHash and the bottom-k sketch of ``text``, from one pass over its shingles."""
    flat = _STRIP.sub("", text)
    shingles = {flat[i:i + SHINGLE] for i in range(min(len(flat) - SHINGLE + 1, _MAX_SHINGLES))}
    if not shingles:
        return Fingerprint(0, b"")
    blake = hashlib.blake2b
    joined = b"".join([blake(shingle.encode("utf-8"), digest_size=8).digest() for shingle in shingles])
    digests = np.frombuffer(joined, dtype=np.uint8).reshape(len(shingles), 8)
    # column c of the unpacked bits is bit 63 - c of the big-endian hash; a SimHash bit is set
    # where more than half of the shingles have it
    majority = np.unpackbits(digests, axis=1).sum(axis=0, dtype=np.int64) * 2 > len(shingles)
    value = int.from_bytes(np.packbits(majority).tobytes(), "big")
    signed = value - (1 << 64) if value >= 1 << 63 else value
    # big-endian hashes order as their integers do, so the sketch is the k smallest of them
    hashes = np.sort(np.frombuffer(joined, dtype=">u8"))[:SKETCH_SIZE]
    return Fingerprint(signed, hashes.astype(">u8").tobytes())


def simhash(text: str) -> int:
    """A signed 64-bit SimHash of ``text`` (fits a BIGINT column)."""
    return fingerprint(text).simhash


def sketch(text: str) -> bytes:
    """The bottom-k sketch of ``text`` (see the module docstring)."""
    return fingerprint(text).sketch


def sketch_hashes(sketch_bytes: bytes) -> tuple[int, ...]:
    """The hashes of a stored sketch, ascending (decode once to compare one sketch with many)."""
    return struct.unpack(f">{len(sketch_bytes) // 8}Q", sketch_bytes[:len(sketch_bytes) // 8 * 8])


def sketch_jaccard(a: bytes | tuple[int, ...], b: bytes | tuple[int, ...]) -> float:
    """The Jaccard similarity of two texts estimated from their sketches: among the k smallest
    hashes of both together, the share that both texts have (exact when both sketches hold
    every shingle of their text)."""
    ha = sketch_hashes(a) if isinstance(a, bytes) else a
    hb = sketch_hashes(b) if isinstance(b, bytes) else b
    if not ha or not hb:
        return 0.0
    both = sorted(set(ha).intersection(hb))
    if len(ha) < SKETCH_SIZE and len(hb) < SKETCH_SIZE:
        return len(both) / (len(ha) + len(hb) - len(both))
    # k no larger than either sketch: every hash among the k smallest of the union that is in a
    # text is then in that text's sketch. The k-th smallest distinct hash of the union is found by
    # bisection over the merge of the two ascending sketches (a shared hash appears twice in it).
    k = min(len(ha), len(hb))
    merged = sorted(ha + hb)
    lo, hi = k - 1, len(merged) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if bisect_right(merged, merged[mid]) - bisect_right(both, merged[mid]) >= k:
            hi = mid
        else:
            lo = mid + 1
    return bisect_right(both, merged[lo]) / k


def related(mine: bytes, others: dict[int, bytes | np.ndarray], threshold: float) -> set[int]:
    """The keys of ``others`` (stored sketches, or their hashes as ascending ``uint64`` arrays)
    whose Jaccard estimate with ``mine`` reaches ``threshold``.

    The estimate counts shared hashes among the k smallest of the union, so it is at most
    (shared hashes) / k: one vectorised pass counts the shared hashes of every sketch, and only
    those that could reach the threshold are estimated, all at once (``jaccard_many``)."""
    if not mine or not others:
        return set()
    own = _hashes(mine)
    ids = [i for i, other in others.items() if len(other)]
    if not ids:
        return set()
    arrays = [_hashes(others[i]) for i in ids]
    sizes = np.array([len(a) for a in arrays])
    every = np.concatenate(arrays)
    found = own[np.minimum(np.searchsorted(own, every), len(own) - 1)] == every  # own is sorted
    shared = np.add.reduceat(found, np.concatenate(([0], np.cumsum(sizes)[:-1])))
    hopeful = np.flatnonzero(shared / np.minimum(sizes, len(own)) >= threshold)
    if not len(hopeful):
        return set()
    estimates = jaccard_many(own, [arrays[n] for n in hopeful])
    return {ids[n] for n, estimate in zip(hopeful.tolist(), estimates.tolist()) if estimate >= threshold}


def _hashes(sketch_value: bytes | np.ndarray) -> np.ndarray:
    if isinstance(sketch_value, np.ndarray):
        return sketch_value
    return np.frombuffer(sketch_value, dtype=">u8", count=len(sketch_value) // 8).astype(np.uint64)


def jaccard_many(own: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """``sketch_jaccard`` of ``own`` with each of ``others`` (ascending ``uint64`` hashes, none
    empty), computed for all of them at once.

    With k = min(|A|, |B|), the k-th smallest distinct hash of A and B together is the smallest
    hash x, of either, whose union count #A<=x + #B<=x - #shared<=x reaches k; the estimate is
    the number of shared hashes up to it, over k. The counts come from one ``searchsorted`` of
    every candidate hash into A and cumulative sums along each row."""
    m, count, width = len(own), len(others), max(len(o) for o in others)
    lengths = np.array([len(o) for o in others])
    top = np.iinfo(np.uint64).max
    b = np.full((count, width), top, dtype=np.uint64)
    for row, other in enumerate(others):
        b[row, :len(other)] = other
    valid = np.arange(width) < lengths[:, None]
    left = np.searchsorted(own, b, "left")  # index of the first own hash >= each hash
    in_own = valid & (left < m) & (own[np.minimum(left, m - 1)] == b)
    shared = in_own.sum(axis=1)
    k = np.minimum(lengths, m)
    # union counts at each candidate's own hashes
    at_b = (np.arange(1, width + 1) + np.searchsorted(own, b, "right") - np.cumsum(in_own, axis=1))
    # union counts at A's hashes: #B<=a_i from how many of B's hashes sort before each a_i
    rows = np.broadcast_to(np.arange(count)[:, None], b.shape)
    flat = (rows * (m + 1) + np.where(valid, left, m))[valid]
    b_upto = np.cumsum(np.bincount(flat, minlength=count * (m + 1)).reshape(count, m + 1), axis=1)[:, :m]
    own_shared = np.bincount((rows * m + np.minimum(left, m - 1))[in_own], minlength=count * m).reshape(count, m)
    at_a = np.arange(1, m + 1) + b_upto - np.cumsum(own_shared, axis=1)
    kth = np.minimum(np.where(valid & (at_b >= k[:, None]), b, top).min(axis=1),
                     np.where(at_a >= k[:, None], own, top).min(axis=1))
    shared_upto = (in_own & (b <= kth[:, None])).sum(axis=1)
    whole = (lengths < SKETCH_SIZE) & (m < SKETCH_SIZE)  # both sketches hold their whole texts
    return np.where(whole, shared / np.maximum(m + lengths - shared, 1), shared_upto / k)


def distance(a: int, b: int) -> int:
    """Hamming distance between two (signed) 64-bit fingerprints."""
    return bin((a ^ b) & ((1 << 64) - 1)).count("1")


def is_candidate(a: int, b: int) -> bool:
    """Whether two fingerprints are close enough to compare the texts."""
    return a != 0 and b != 0 and distance(a, b) <= CANDIDATE_BITS


def shingles(text: str) -> set[str]:
    flat = _STRIP.sub("", text)
    return {flat[i:i + SHINGLE] for i in range(len(flat) - SHINGLE + 1)}


def jaccard(a: str | set[str], b: str | set[str]) -> float:
    sa = shingles(a) if isinstance(a, str) else a
    sb = shingles(b) if isinstance(b, str) else b
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def same_story(a: str | set[str], b: str | set[str]) -> bool:
    """Whether two texts (or their shingle sets) tell one story (one rewritten from the other)."""
    return jaccard(a, b) >= SAME_STORY_JACCARD


def same_story_sketch(a: bytes, b: bytes) -> bool:
    """``same_story`` for two stored sketches."""
    return sketch_jaccard(a, b) >= SAME_STORY_JACCARD
