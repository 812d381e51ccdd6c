"""Judgements reported about a target: the speaker criticises or welcomes what the target does or
what is done to it.

``judged(tokens, nouns, i, at, vocab)`` reads a target that is the subject of a reported clause
("H200 수출 허용은 … 실수"라고 비판했다; 국정원은 딥시크가 … 수집한다고 경고했다). The reporting verb
carries the stance when it is itself a stance word (비판, 경고, 우려, 환영); a stance noun in the
target's own phrase is what is judged, so criticising a ban (딥시크 차단은 과잉 규제라고 비판) is not
opposing the target. Anything else returns None and the clause is read as usual.
"""
from __future__ import annotations

from worker.claims.lexicon import fold
from worker.claims.morph import Token
from worker.claims.positions_np import quote_spans
from worker.claims.positions_tokens import next_verb, pred_word
from worker.claims.stance import StanceVocab
from worker.model import Modality, Stance

#: Endings that close a reported clause before its reporting verb (…다고 경고했다, …라며 비판했다).
REPORT_ENDINGS = {"다고", "라고", "이라고", "ᆫ다고", "는다고", "다며", "라며", "이라며", "ᆫ다며", "는다며"}


def _sign(tokens: list[Token], nouns: list[int], vocab: StanceVocab) -> int:
    """+1/-1 for the stance nouns of the target's own phrase (수출 허용 +1, 사용 차단 -1), 0 when none."""
    sign, polar = 1, False
    for i in nouns:
        for w in vocab.words(fold(tokens[i].form)):
            if w in vocab.oppose:
                sign, polar = -sign, True
            elif w in vocab.support:
                polar = True
    return sign if polar else 0


def _stated(tokens: list[Token], a: int, m: int, vocab: StanceVocab) -> int:
    """+1/-1 for a stance noun stated as the object of a light or reporting verb at ``m`` (반대 입장을
    밝혔다, 우려를 나타냈다, 환영의 뜻을 밝혔다), the object's nouns read between ``a`` and ``m``; 0 when none."""
    obj = next((k for k in range(m - 1, a - 1, -1) if tokens[k].tag == "JKO"), None)
    if obj is None:
        return 0
    start = obj
    while start > a and (tokens[start - 1].tag.startswith("N") or tokens[start - 1].tag in ("JKG", "XSN")):
        start -= 1
    words = [w for k in range(start, obj) if tokens[k].tag.startswith("N") for w in vocab.words(fold(tokens[k].form))]
    if any(w in vocab.oppose for w in words):
        return -1
    return 1 if any(w in vocab.support for w in words) else 0


def judged(tokens: list[Token], nouns: list[int], i: int, at: int, vocab: StanceVocab) -> tuple[Stance, Modality, int] | None:
    """Stance, modality and the actor-search index of a judgement reported about the target at ``at``.

    ``nouns`` are the nouns after the target in its phrase and ``i`` the index of its particle."""
    n = len(tokens)
    k = next((k for k in range(i + 1, n) if tokens[k].tag == "JKQ"
              or (tokens[k].tag == "EC" and tokens[k].form in REPORT_ENDINGS) or tokens[k].tag == "SF"), n)
    if k >= n or tokens[k].tag == "SF":
        return None
    m = next_verb(tokens, k + 1)
    if m is None:
        return None
    w = pred_word(tokens, m)
    verb = -1 if w in vocab.oppose else 1 if w in vocab.support else 0
    if not verb and (w in vocab.light_verbs or w in vocab.reporting):
        verb = _stated(tokens, k + 1, m, vocab)  # "…"이라며 반대 입장을 밝혔다: the stance is the object's
    if not verb or any(t.tag == "EC" and t.form not in REPORT_ENDINGS and t.form in ("면", "으면", "다면")
                       for t in tokens[k:m]):
        return None
    own = _sign(tokens, nouns, vocab)
    quoted = any(a < at < b for a, b in quote_spans(tokens))
    if own == 0:
        topic_before = any(tokens[x].tag == "JX" and tokens[x].form in ("은", "는") for x in range(1, at))
        if not (quoted or (tokens[i].tag == "JKS" and topic_before)):
            return None  # 엔비디아가 "…"라고 비판했다: the target may be the speaker itself
        own = 1
    stance = Stance.SUPPORT if own * verb > 0 else Stance.OPPOSE
    return stance, Modality.DONE, at
