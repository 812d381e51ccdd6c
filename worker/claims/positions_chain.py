"""The predicate chain that governs a target mention: its stance, modality and voice.

``read_chain(tokens, after, vocab)`` starts at the first token after a target mention and follows
Korean syntax rightwards: the target's noun phrase (딥시크 앱의 신규 다운로드), its particle (the
target's role), the predicate that governs it (를 … 중단했다), and the endings that change what that
predicate says (하지 않았다, 하기로 했다, 할 예정이다, 할 것으로 보인다). It returns an ``Event`` or None
when the target is only mentioned (딥시크의 등장, 딥시크가 개발한 모델) or the clause is a forecast.
"""
from __future__ import annotations

from dataclasses import dataclass

from worker.claims.lexicon import fold
from worker.claims.morph import Token
from worker.claims.positions_judged import judged
from worker.claims.positions_phrase import noun_phrase
from worker.claims.positions_tokens import PARENS, QUOTE_OPEN, next_verb, pred_word, skip_group
from worker.claims.stance import StanceVocab, is_noun, is_verb, lemma
from worker.model import Modality, Stance

INSTEAD = "대신"  # X 대신 Y를 쓰다: the move is for Y, so against X
FACT_NOUNS = {"것", "점", "사실"}  # 딥시크가 … 개발한 것에 대해: a fact about the target
COORD_ENDINGS = {"고", "며", "으며", "면서", "으면서", "어", "아", "여", "는데", "은데", "ㄴ데", "지만", "으나", "나",
                 "고서", "어서", "아서", "므로", "으므로", "니", "으니"}
QUOTE_ENDINGS = {"다고", "라고", "냐고", "자고", "고", "이라고", "라며", "이라며", "다며", "면서", "다면서"}
ASPECT_AUX = {"있", "주", "보", "오", "가", "내", "버리", "두", "놓"}
PASSIVE_LIGHT = {"되", "당하", "받"}
LIST_NOUNS = {"대상", "목록", "명단", "리스트"}  # 수출 통제 대상에 (추가했다)
#: Verbs that end or carry out a procedure (점검을 마치고): the move is the next clause's.
PROCEDURE_VERBS = {"마치다", "끝내다", "거치다", "완료하다", "마무리하다", "종료하다", "벌이다"}


@dataclass(frozen=True)
class Event:
    """What a clause says about a target: stance, modality, and where its predicate is."""

    stance: Stance
    modality: Modality
    pred: int  # token index of the governing predicate; the actor is sought before it
    passive: str  # "passive" (접속이 차단됐다) or "received" (허가를 받았다): the actor is named elsewhere
    role: str  # the target's role: obj, subj, topic, adv, bare
    relative: int | None = None  # 딥시크를 차단한 [외교부]: index of the noun the clause modifies
    fact: bool = False  # the target is the subject of a fact acted on (엔비디아가 … 판매하는 것을 허용)


class _State:
    """Stance and modality read so far along one chain."""

    def __init__(self, vocab: StanceVocab) -> None:
        self.v = vocab
        self.sign, self.polar, self.neutral, self.void = 1, False, False, False
        self.planned = self.considering = self.forecast = self.negated = False

    def word(self, w: str, pred: bool = False) -> None:
        """Apply one listed word; a `use` word (사용) is a move only as the predicate itself."""
        v = self.v
        if w in v.void:
            self.void = True
        elif w in v.oppose or w in v.neg_nouns:
            self.sign, self.polar = -self.sign, True
        elif w in v.support or (pred and w in v.use):
            self.polar = True
        elif w in v.neutral:
            self.neutral = True
        self.planned |= w in v.planned
        self.considering |= w in v.considering

    def phrase(self, tokens: list[Token], idx: list[int], pred: bool = False) -> None:
        """Apply the words of a noun phrase whose head (last noun) is a listed word."""
        forms = _forms(tokens, idx)
        words = [w for f in forms for w in self.v.words(f)]
        if forms and self.v.words(forms[-1]):
            for k, w in enumerate(words):
                self.word(w, pred and k == len(words) - 1)

    def result(self) -> tuple[Stance, Modality] | None:
        if self.forecast:
            return None
        if self.void:
            stance = Stance.NEUTRAL
        elif self.polar:
            sign = -self.sign if self.negated else self.sign
            stance = Stance.SUPPORT if sign > 0 else Stance.OPPOSE
        elif self.neutral and not self.negated:
            stance = Stance.NEUTRAL
        else:
            return None
        if self.negated and self.considering:
            self.considering = False  # 도입을 검토하지 않는다: a decision not to, not a review
        modality = Modality.CONSIDERING if self.considering else Modality.PLANNED if self.planned else Modality.DONE
        return stance, modality


def _forms(tokens: list[Token], idx: list[int]) -> list[str]:
    """The noun forms of ``idx``: a prefix joined to its noun (재+검토 → 재검토), and a suffix written onto
    the noun before it (의무+화 → 의무화, 금지+령 → 금지령)."""
    out: list[str] = []
    for i in idx:
        if out and i > 0 and tokens[i - 1].tag == "XPN" and tokens[i - 1].form == out[-1]:
            out[-1] += tokens[i].form
        elif out and i > 0 and tokens[i].tag == "XSN" and i - 1 in idx and tokens[i - 1].end == tokens[i].start:
            out[-1] += tokens[i].form
        else:
            out.append(tokens[i].form)
    return out


def _role(t: Token | None) -> str:
    if t is None or t.tag in ("SF", "SP", "SE", "SSO", "SSC") or is_verb(t):
        return "bare"
    if t.tag == "JKO":
        return "obj"
    if t.tag == "JKS":
        return "subj"
    if t.tag == "JX" and t.form in ("은", "는", "도", "만"):
        return "topic"
    if t.tag == "JKB" and t.form in ("에", "에게", "에서", "에서는", "한테"):
        return "adv"
    return "other"


def _quote_eval(tokens: list[Token], i: int, end: int, st: _State) -> None:
    """Evaluative words of a quote used as a predicate's complement ("긍정적인 일"이라고 평가)."""
    for k in range(i, end):
        w = lemma(tokens, k)
        if w in st.v.eval_support:
            st.polar = True
        elif w in st.v.eval_oppose:
            st.sign, st.polar = -st.sign, True


def _find_verb(tokens: list[Token], j: int, st: _State) -> int | None:
    """The governing predicate from ``j``: applies the stance of the noun phrase it takes.

    A verb that only leads into the next one (잇따라 차단했다, 서버에 올려 활용할) is passed over, unless
    a new object follows it (딥시크를 앞세워 영향력을 확대: the target is not the object of 확대)."""
    n = len(tokens)
    phrase: list[int] = []
    serial = False
    while j < n:
        t = tokens[j]
        if t.form == "의하" and j > 0 and tokens[j - 1].form == "에":
            j += 2 if j + 1 < n and tokens[j + 1].tag == "EC" else 1  # 개인정보위에 의해 (중단됐다)
            phrase = []
            continue
        if serial and t.tag == "JKO":
            return None
        if t.tag == "SSO" and t.form in QUOTE_OPEN:
            end = skip_group(tokens, j)
            if end < n and tokens[end].tag in ("JKQ", "VCP"):
                _quote_eval(tokens, j + 1, end - 1, st)
            j = end
            continue
        if t.form in PARENS:
            j = skip_group(tokens, j)
            continue
        if is_noun(t):
            phrase.append(j)
        elif t.tag == "JKO" or (t.tag == "JKB" and t.form in ("으로", "로") and j + 1 < n
                                and tokens[j + 1].form == "하"):
            pass  # the object of the verb, or X로 하다 (기반으로 한)
        elif t.form == "에" and phrase and fold(tokens[phrase[-1]].form) in LIST_NOUNS:
            st.phrase(tokens, phrase)  # 수출 통제 대상에 추가: putting the target on a list is that list's move
            phrase = []
        elif t.tag.startswith("J"):
            phrase = []  # an adverbial phrase (우려로, 기기에서) does not carry the stance
        elif t.tag == "MAG" and t.form in st.v.neg_adverbs:
            st.negated = not st.negated
        elif t.tag.startswith(("VA", "XSA")) and j + 2 < n and tokens[j + 1].tag == "EC" and tokens[j + 1].form == "게":
            phrase = []  # 강하게 반발했다, 신속하게 조사하라고: an adverb, not the predicate
            j += 2
            continue
        elif is_verb(t) and _serial(tokens, j, st.v):
            serial, phrase = True, []
            j += 2
            continue
        elif is_verb(t):
            if t.tag == "VCP" and phrase and tokens[phrase[-1]].form == "중":
                phrase = phrase[:-1]
            if t.tag.startswith("XSV") and len(phrase) > 1 and fold(tokens[phrase[-1]].form) + "하다" in st.v.light_verbs \
                    and not st.v.words(fold(tokens[phrase[-1]].form)):
                phrase = phrase[:-1]  # 시정 권고를 의결했다: 의결하다 is the light verb of 시정 권고
            st.phrase(tokens, phrase, pred=t.tag.startswith(("XSV", "XSA")))
            return j
        elif t.tag in ("SF", "SE") or t.tag.startswith("E"):
            return None
        j += 1
    return None


def _no_object(tokens: list[Token], k: int) -> bool:
    """True when no object particle comes before the clause's first predicate from ``k``."""
    for t in tokens[k:]:
        if t.tag == "JKO":
            return False
        if is_verb(t) or t.tag in ("EC", "EF", "SF"):
            return True
    return True


def _past_procedure(tokens: list[Token], v: int, st: _State) -> tuple[int, _State]:
    """``딥시크 점검을 마치고 시정 권고를 내렸다``: a verb that only ends or carries out a procedure,
    coordinated with a next clause, passes the target on to that clause's move when it has one."""
    n = len(tokens)
    if lemma(tokens, v) not in PROCEDURE_VERBS or v + 1 >= n or tokens[v + 1].tag != "EC" \
            or tokens[v + 1].form not in ("고", "며", "으며", "면서", "으면서", "어", "아"):
        return v, st
    nxt = _State(st.v)
    w = _find_verb(tokens, v + 2, nxt)
    if w is None:
        return v, st
    if not tokens[w].tag.startswith(("XSV", "XSA")):
        word = lemma(tokens, w)
        if word in st.v.polar or word in st.v.neutral:
            nxt.word(word, pred=True)
        elif word not in st.v.light_verbs:
            return v, st
    if not nxt.polar and not nxt.neutral:
        return v, st
    nxt.neutral |= st.neutral
    return w, nxt


def _serial(tokens: list[Token], j: int, vocab: StanceVocab) -> bool:
    """True for a verb that only leads into the next (잇따라, 올려): no stance, linked by 어/아."""
    if j + 2 >= len(tokens) or tokens[j + 1].tag != "EC" or tokens[j + 1].form not in ("어", "아", "여"):
        return False
    w = pred_word(tokens, j)
    if w in vocab.polar or w in vocab.neutral or w in vocab.reporting:
        return False
    return tokens[j].tag.startswith("VV") and (is_noun(tokens[j + 2]) or tokens[j + 2].tag.startswith(("VV", "MAG")))


def _endings(tokens: list[Token], v: int, st: _State) -> tuple[int | None, bool, int]:
    """Read the endings after the predicate at ``v``: relative-clause head, background flag, last verb."""
    n, k = len(tokens), v + 1
    vocab = st.v
    last = v
    while k < n:
        t = tokens[k]
        nxt = tokens[k + 1] if k + 1 < n else None
        if t.tag == "EP":
            st.planned |= t.form == "겠"
            k += 1
        elif t.tag == "EC" and t.form == "지" and nxt and lemma(tokens, k + 1) in vocab.neg_aux:
            st.negated = not st.negated
            k += 2
        elif t.tag == "EC" and nxt and nxt.tag.startswith("VX") and nxt.form in ASPECT_AUX:
            k += 2
        elif t.tag == "ETN" and t.form == "기" and nxt and nxt.form in ("로", "으로"):
            st.planned = True  # 하기로 했다, 허용하지 않기로 결정
            m = next_verb(tokens, k + 2)
            if m is None:
                return None, False, last
            k, last = m + 1, m
        elif t.tag == "EC" and t.form in ("ᆯ지", "을지", "는지", "ㄹ지", "ᆫ지", "은지") and nxt:
            st.void = True  # 금지할지 검토: whether to, not yet a stance
            m = next_verb(tokens, k + 1)
            if m is None:
                return None, False, last
            st.word(pred_word(tokens, m))
            k, last = m + 1, m
        elif t.tag == "EC" and t.form == "도록" and nxt:
            m = next_verb(tokens, k + 1)
            if m is None:
                return None, False, last
            w = pred_word(tokens, m)
            if not (st.negated and w in vocab.oppose):  # 사용하지 못하도록 막았다: one negation
                st.word(w, pred=True)
            k, last = m + 1, m
        elif t.tag == "ETM" and nxt and nxt.form == "수":
            after = lemma(tokens, k + 2) if k + 2 < n else ""
            if after in vocab.neg_after_su:
                st.negated = not st.negated
            elif k + 4 < n and tokens[k + 3].form == "게" and tokens[k + 4].form == "하":
                k, last = k + 5, k + 4  # 팔 수 있게 하겠다: lets it be done
                continue
            else:
                st.forecast = True  # 차단할 수 있다: a possibility, not a move
            k += 3
        elif t.tag == "ETM" and nxt and is_noun(nxt):
            w = nxt.form
            if w == "것" and k + 3 < n and tokens[k + 2].form in ("으로", "로"):
                m = next_verb(tokens, k + 3)
                if m is not None and pred_word(tokens, m) in vocab.forecast:
                    st.forecast = True
                    return None, False, last
                k, last = ((m + 1), m) if m is not None else (n, last)
            elif w == "것":
                if k + 2 < n and tokens[k + 2].tag == "VCP":
                    st.planned |= t.form in ("ᆯ", "을", "ㄹ")  # 허용할 것이다
                    k += 3
                else:
                    m = next_verb(tokens, k + 2)  # 자제할 것을 촉구했다: the verb that takes the clause
                    k, last = ((m + 1), m) if m is not None else (n, last)
            elif w in vocab.forecast:
                st.forecast = True
                return None, False, last
            elif w in vocab.planned or w in vocab.considering or w in vocab.light_nouns:
                st.word(w)
                if k + 3 < n and tokens[k + 2].tag in ("JKS", "JX") and lemma(tokens, k + 3) == "없다":
                    st.negated = not st.negated  # 도입할 계획이 없다
                    return None, False, last
                m = next_verb(tokens, k + 2)
                if m is not None and tokens[m].tag in ("XSV", "XSA"):
                    st.word(tokens[m - 1].form)
                k, last = ((m + 1), m) if m is not None else (n, last)
            else:
                return k + 1, False, last  # a relative clause: 딥시크를 차단한 외교부
        elif t.tag == "JKQ" or (t.tag == "EC" and t.form in QUOTE_ENDINGS and _is_report(tokens, k + 1, vocab)):
            m = next_verb(tokens, k + 1)
            if m is None:
                return None, False, last
            w = pred_word(tokens, m)
            if w in vocab.forecast or (w == "하다" and m + 1 < n and tokens[m + 1].tag == "EF"):
                st.forecast = True  # 전망했다; 했다고 한다 (unattributed hearsay)
                return None, False, last
            k, last = m + 1, m
        elif t.tag == "EC" and t.form in vocab.background:
            return None, True, last
        else:
            return None, False, last
    return None, False, last


def _is_report(tokens: list[Token], k: int, vocab: StanceVocab) -> bool:
    m = next_verb(tokens, k)
    if m is None:
        return False
    w = pred_word(tokens, m)
    return w in vocab.reporting or w in vocab.forecast or w == "하다"


def _passive(tokens: list[Token], v: int) -> str:
    """The voice of the predicate at ``v``: "", "passive" (차단됐다) or "received" (허가를 받았다)."""
    t = tokens[v]
    if t.form == "받" and t.tag.startswith("VV"):
        return "received"
    if t.form in PASSIVE_LIGHT and t.tag.startswith("XSV"):
        return "passive"
    return "passive" if t.tag.startswith("VV") and t.form[-1:] in ("히", "리", "기") and len(t.form) > 1 else ""


def _fact(tokens: list[Token], k: int) -> int | None:
    """Index of 것 in "[target]가 … 한 것(에 대해)", when the clause ends there; else None."""
    for m in range(k, len(tokens) - 1):
        t = tokens[m]
        if t.tag == "ETM" and tokens[m + 1].form in FACT_NOUNS:
            return m + 1
        if t.tag in ("EF", "SF", "EC", "JKS") or (t.tag == "JX" and t.form in ("은", "는")):
            return None
    return None


def read_chain(tokens: list[Token], after: int, vocab: StanceVocab, *, topic_object: bool = False) -> Event | None:
    """The ``Event`` of the clause governing a target whose last token is before ``after``.

    ``topic_object``: the sentence has an earlier topic (회사는 …, 중국산 AI 모델은 쓰지 않는다), so a
    target written as a topic with no object of its own in its clause is what is acted on."""
    st = _State(vocab)
    nouns, i = noun_phrase(tokens, after)
    n = len(tokens)
    role = _role(tokens[i] if i < n else None)
    if role == "bare" and (i >= n or not is_verb(tokens[i])):
        if not nouns or not vocab.words(tokens[nouns[-1]].form):
            return None
        st.phrase(tokens, nouns)  # a nominal predicate, as in a headline: 딥시크 다운로드 재개
        res = st.result()
        return Event(res[0], res[1], nouns[-1], "", role) if res else None
    if role in ("subj", "topic") and i < n:
        got = judged(tokens, nouns, i, after - 1, vocab)
        if got is not None:
            return Event(got[0], got[1], got[2], "", "judged")
    if topic_object and role == "topic" and tokens[i].form in ("은", "는") and _no_object(tokens, i + 1):
        role = "obj"  # 회사는 …, 중국산 AI 모델은 쓰지 않는다: the second topic is what is (not) used
    st.phrase(tokens, nouns)
    start = i if role == "bare" else i + 1
    if role == "topic" and i < n and tokens[i].form == "도" and nouns and fold(tokens[nouns[-1]].form) in vocab.polar:
        role = "obj"  # 사내 사용도 금지했다: an activity is what is acted on, never the agent
    fact = _fact(tokens, start) if role in ("subj", "topic") else None
    if fact is not None:
        st = _State(vocab)  # 딥시크가 AI를 개발한 것에 대해 …: what is said of the fact is said of the target
        _, start = noun_phrase(tokens, fact)
        role = _role(tokens[start] if start < n else None)
        if role == "bare":
            role = "adv"  # 것에 대해 “…”라고 평가: the quote follows
        else:
            start += 1
    return _govern(tokens, start, st, role, nouns, fact is not None)


def _govern(tokens: list[Token], start: int, st: _State, role: str, nouns: list[int], fact: bool) -> Event | None:
    """The ``Event`` of the predicate governing a target phrase that ends before ``start``."""
    vocab, n = st.v, len(tokens)
    v = _find_verb(tokens, start, st)
    if v is None:
        return None
    v, st = _past_procedure(tokens, v, st)
    t = tokens[v]
    passive = _passive(tokens, v)
    if role in ("subj", "topic") and passive != "passive":
        # 딥시크는 … 공개했다 / 허가를 받았다: the target acts or receives; it is not acted on, unless what
        # it does is a condition of a move (딥시크 V4가 출시되면 … 다시 점검할 계획이다)
        return _conditioned(tokens, v, vocab, nouns)
    if not t.tag.startswith(("XSV", "XSA", "VCP")):
        w = lemma(tokens, v)
        if w in vocab.polar or w in vocab.neutral or w in vocab.void:
            st.word(w, pred=True)
        elif w not in vocab.light_verbs and w not in vocab.reporting:
            return None  # 영향력 확대에 힘을 보탰다: the verb says nothing about the target
    elif t.tag.startswith("XSV") and role in ("adv", "other") and v > 0:
        w = fold(tokens[v - 1].form)
        if not vocab.words(w) and w + "다" not in vocab.light_verbs and w + "하다" not in vocab.light_verbs \
                and w + "하다" not in vocab.reporting:
            return None  # 수출 제한으로 비용을 반영했다: the target's phrase is a cause, the verb no move
    relative, background, last = _endings(tokens, v, st)
    if background:
        return _conditioned(tokens, v, vocab, nouns) if role in ("subj", "topic") else None
    if any(tokens[k].form == INSTEAD or (tokens[k].form + tokens[k + 1].form == INSTEAD and tokens[k + 1].start
                                         == tokens[k].end) for k in nouns if k + 1 < n):
        st.sign = -st.sign  # H20 대신 국산 칩을 쓰라고: what is done instead of the target goes against it
    res = st.result()
    if res is None:
        return None
    if relative is not None and (outer := _acted_on(tokens, relative, vocab)) is not None:
        # 화웨이 칩을 쓴 차량의 판매를 금지: a move on what the clause describes is a move on the target
        stance = Stance.NEUTRAL if Stance.NEUTRAL in (res[0], outer.stance) \
            else Stance.SUPPORT if res[0] == outer.stance else Stance.OPPOSE
        return Event(stance, outer.modality, outer.pred, outer.passive, role, outer.relative, fact)
    return Event(res[0], res[1], last, passive, role, relative, fact)


def _acted_on(tokens: list[Token], head: int, vocab: StanceVocab) -> Event | None:
    """The move made on the noun a relative clause modifies (…을 쓴 [차량의 판매]를 금지했다) when that
    noun is an object; None when it is the clause's actor (딥시크를 차단한 외교부는) or nothing is done."""
    nouns, i = noun_phrase(tokens, head)
    if not nouns or i >= len(tokens) or _role(tokens[i]) != "obj":
        return None
    st = _State(vocab)
    st.phrase(tokens, nouns)
    return _govern(tokens, i + 1, st, "obj", nouns, False)


#: Endings of a condition (출시되면, 발견되면, 판매한다면).
CONDITIONS = {"면", "으면", "다면", "ᆫ다면", "는다면", "라면", "이라면"}


def _conditioned(tokens: list[Token], v: int, vocab: StanceVocab, nouns: list[int]) -> Event | None:
    """The move of the main clause when the predicate at ``v``, whose subject is the target, ends a
    condition (딥시크 V4가 출시되면 … 점검할 계획이다, 중국산 AI가 발견되면 즉시 접속을 차단하겠다): the
    move is made on the target; None when the clause is no condition, the main clause makes no move, or
    the subject is something of the target's (엔비디아 칩 수요가 늘면: the demand, not the target)."""
    if any(tokens[k].tag == "NNG" for k in nouns):
        return None
    n, k = len(tokens), v + 1
    while k < n and (tokens[k].tag == "EP" or tokens[k].tag.startswith("VX")
                     or (tokens[k].tag == "EC" and k + 1 < n and tokens[k + 1].tag.startswith("VX"))):
        k += 1  # 출시되었으면, 쓰고 있으면: tense and aspect before the condition's ending
    if k >= n or tokens[k].tag != "EC" or tokens[k].form not in CONDITIONS:
        return None
    return _govern(tokens, k + 1, _State(vocab), "cond", [], False)
