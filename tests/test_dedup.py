"""Near-duplicate fingerprints: one story under two URLs or two outlets, not two stories."""
from __future__ import annotations

from worker import dedup

STORY = ("개인정보보호위원회가 중국 인공지능 서비스 딥시크의 국내 신규 다운로드를 두 달 만에 재개하기로 했다. "
         "개인정보위는 딥시크 측이 개인정보 처리방침을 개선하고 이용자 데이터의 해외 이전을 중단했다고 설명했다. "
         "앞서 개인정보위는 지난 2월 딥시크 앱의 국내 다운로드를 잠정 중단시킨 바 있다.")
REWRITE = ("[서울=뉴스원] 개인정보보호위원회가 중국 AI 서비스 딥시크의 국내 신규 다운로드를 두 달 만에 재개하기로 했다. "
           "개인정보위는 딥시크 측이 개인정보 처리방침을 개선하고 이용자 데이터의 해외 이전을 중단했다고 밝혔다. "
           "앞서 개인정보위는 지난 2월 딥시크 앱의 국내 다운로드를 잠정 중단한 바 있다.")
OTHER = ("엔비디아가 중국 수출용 인공지능 칩 H20의 판매를 재개한다고 밝혔다. 미국 상무부는 엔비디아의 수출 허가 신청을 "
         "승인할 방침이라고 전했다. 업계는 중국 시장 매출이 다시 늘어날 것으로 내다봤다.")


def test_content_hash_ignores_spacing_and_punctuation() -> None:
    assert dedup.content_hash(STORY) == dedup.content_hash(STORY.replace(" ", "  ").replace(".", "!"))


FOLLOW_UP = ("개인정보보호위원회가 중국 인공지능 서비스 딥시크의 국내 신규 다운로드를 잠정 중단했다. "
             "개인정보위는 딥시크 측이 이용자 데이터를 해외로 이전한 정황을 확인했다고 설명했다. "
             "개인정보위는 개인정보 처리방침이 개선될 때까지 다운로드를 막겠다고 밝혔다.")


def test_rewrite_is_the_same_story_other_and_follow_up_stories_are_not() -> None:
    a, b, c = dedup.simhash(STORY), dedup.simhash(REWRITE), dedup.simhash(OTHER)
    assert dedup.is_candidate(a, b), dedup.distance(a, b)
    assert dedup.same_story(STORY, REWRITE), dedup.jaccard(STORY, REWRITE)
    assert not dedup.is_candidate(a, c), dedup.distance(a, c)
    assert not dedup.same_story(STORY, OTHER)
    assert not dedup.same_story(STORY, FOLLOW_UP), dedup.jaccard(STORY, FOLLOW_UP)


def test_fingerprint_is_a_signed_64_bit_integer() -> None:
    h = dedup.simhash(STORY)
    assert -(2**63) <= h < 2**63
    assert dedup.simhash("") == 0 and not dedup.is_candidate(0, 0)


def test_sketch_jaccard_is_exact_for_short_texts_and_close_for_long_ones() -> None:
    for other in (REWRITE, OTHER, FOLLOW_UP):
        exact = dedup.jaccard(STORY, other)
        assert dedup.sketch_jaccard(dedup.sketch(STORY), dedup.sketch(other)) == exact
    # long texts (far more shingles than the sketch holds): the estimate stays within 0.06
    import pathlib
    seeds = [p.read_text(encoding="utf-8") for p in sorted(pathlib.Path("seeds").glob("*.txt"))]
    assert len(seeds) == 4
    for i, a in enumerate(seeds):
        assert len(dedup.shingles(a)) > dedup.SKETCH_SIZE
        for j, b in enumerate(seeds):
            for frac in (0.3, 0.6):
                mixed = a[:int(len(a) * frac)] + b[int(len(b) * frac):]
                exact = dedup.jaccard(a, mixed)
                estimate = dedup.sketch_jaccard(dedup.sketch(a), dedup.sketch(mixed))
                assert abs(exact - estimate) < 0.06, (i, j, frac, exact, estimate)
    assert dedup.sketch_jaccard(b"", dedup.sketch(STORY)) == 0.0


def test_fingerprint_gives_the_simhash_and_an_ascending_sketch() -> None:
    fp = dedup.fingerprint(STORY)
    assert fp.simhash == dedup.simhash(STORY)
    hashes = [fp.sketch[i:i + 8] for i in range(0, len(fp.sketch), 8)]
    assert hashes == sorted(hashes) and len(hashes) == len(dedup.shingles(STORY))
    assert dedup.fingerprint("") == (0, b"")


PINNED_STORY_SIMHASH = -8261672485591893310
PINNED_OTHER_SIMHASH = 8368454985243584093


def test_simhash_values_stay_those_of_stores_made_before() -> None:
    """Fingerprints are stored: a change of algorithm would hide every earlier near-duplicate.
    These values were computed by the first (pure Python) implementation."""
    assert dedup.simhash(STORY) == PINNED_STORY_SIMHASH
    assert dedup.simhash(OTHER) == PINNED_OTHER_SIMHASH


def test_related_finds_exactly_the_sketches_over_the_threshold() -> None:
    """``related`` (a vectorised bound, then the exact estimate) agrees with ``sketch_jaccard``
    on every pair, for short texts (whole sets) and long ones."""
    import pathlib
    seeds = [p.read_text(encoding="utf-8") for p in sorted(pathlib.Path("seeds").glob("*.txt"))]
    texts = [STORY, REWRITE, OTHER, FOLLOW_UP, "", *seeds]
    for a, b in zip(seeds, seeds[1:]):
        texts.append(a[: len(a) // 2] + b[len(b) // 2:])
    sketches = {i: dedup.sketch(t) for i, t in enumerate(texts)}
    for threshold in (0.05, 0.1, 0.3, 0.5):
        for i, mine in sketches.items():
            expected = {j for j, other in sketches.items()
                        if mine and other and dedup.sketch_jaccard(mine, other) >= threshold}
            assert dedup.related(mine, sketches, threshold) == expected, (i, threshold)


def test_jaccard_many_equals_sketch_jaccard_for_every_pair() -> None:
    """The vectorised estimate is the pairwise one, for sketches of every length (whole short
    texts, full sketches, one of each) and overlaps from none to all."""
    import random

    import numpy as np

    rng = random.Random(3)
    pool = [rng.getrandbits(64) for _ in range(4000)]
    sketches = []
    for _ in range(120):
        size = rng.choice([1, 5, 100, dedup.SKETCH_SIZE - 1, dedup.SKETCH_SIZE, dedup.SKETCH_SIZE])
        source = pool[: rng.choice([600, 1200, 4000])]
        sketches.append(sorted(rng.sample(source, min(size, len(source)))))
    as_bytes = [np.array(s, dtype=">u8").tobytes() for s in sketches]
    for mine, mine_bytes in zip(sketches[:30], as_bytes):
        got = dedup.jaccard_many(np.array(mine, dtype=np.uint64), [np.array(s, dtype=np.uint64) for s in sketches])
        expected = [dedup.sketch_jaccard(mine_bytes, other) for other in as_bytes]
        assert got.tolist() == expected
