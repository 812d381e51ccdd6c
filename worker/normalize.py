"""Pure text functions: Unicode clean-up, page chrome and footers, publication time, title.

``normalize_text`` turns article text as a scraper saved it into the form the claim extractors
read: the title on the first line, then one paragraph per line, with bylines, photo captions,
copyright lines, company-information footers and related-article blocks removed.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone

KST = timezone(timedelta(hours=9))

# Full-width ASCII (U+FF01..U+FF5E) to ASCII, except the quotes, which are quoted back as written.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if cp not in (0xFF02, 0xFF07)}
_SPACES = {cp: " " for cp in (0x00A0, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
                              0x200A, 0x202F, 0x205F, 0x3000)}
_ZERO_WIDTH = {cp: None for cp in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD)}
_DOTS = {ord(c): "·" for c in "ㆍ‧・･∙"}
_TABLE = _FULLWIDTH | _SPACES | _ZERO_WIDTH | _DOTS | {0xFFE6: "₩", 0xFF5E: "~"}

# A time of day: 16:31, 16:31:05, 오후 4:31, PM 04:31, 16시 31분, 오후 4시 (groups named h/mi/s, or h2/mi2/s2).
_TIME = (r"\s*[T ]?\s*(?P<ampm>오전|오후|AM|PM)?\s*(?:(?P<h>\d{1,2})\s*:\s*(?P<mi>\d{2})(?:\s*:\s*(?P<s>\d{2}))?"
         r"|(?P<h2>\d{1,2})\s*시(?:\s*(?P<mi2>\d{1,2})\s*분)?(?:\s*(?P<s2>\d{1,2})\s*초)?)")
_DAY = (r"(?P<y>(?:19|20)\d{2})\s*[.\-/년]\s*(?P<mo>\d{1,2})\s*[.\-/월]\s*(?P<d>\d{1,2})\s*[.일]?"
        r"(?:\s*\(\w\))?")
_DATE = rf"{_DAY}(?:{_TIME})?"
_DATE_TIME = rf"{_DAY}{_TIME}"  # a date with its time: what a byline or a masthead stamps
_STAMP_LABEL = r"(?:기사\s*(?:입력|전송)|입력|등록|게재|게시|발행|송고|전송|출고|작성|승인|업데이트|수정|최종\s*수정)"
_PUBLISH_LABEL = r"(?:기사\s*(?:입력|전송)|입력|등록|게재|게시|발행|송고|전송|출고|작성|승인)"
_STAMPED = re.compile(rf"{_STAMP_LABEL}\s*(?:일시|일자|시간|일)?\s*[:：]?\s*{_DATE}")
_PUBLISHED = re.compile(rf"{_PUBLISH_LABEL}\s*(?:일시|일자|시간|일)?\s*[:：]?\s*{_DATE}"
                        # a stamp after its date ("2025-10-02 14:05 송고"), or a byline's date and time
                        # ("홍길동 기자 | 2025.08.08 07:30", "이성진 특파원 = 2026년04월10일 08:55")
                        rf"|(?P<after>{_DATE.replace('?P<', '?P<p_')})\s*(?:송고|입력|등록)\b"
                        rf"|(?:기자|특파원)\s*[|ㅣ·/=]\s*{_DATE.replace('?P<', '?P<b_')}")
#: A stamp label right before a date: the date is that stamp's ("최종수정 2026.01.30 09:00 입력 …" is no
#: "2026.01.30 09:00 입력").
_LABEL_BEFORE = re.compile(rf"{_STAMP_LABEL}\s*(?:일시|일자|시간|일)?\s*[:：]?\s*$")
#: A masthead line of an outlet's name and the date and time it published ("파이낸셜뉴스 | 2026.01.29 16:31",
#: "[파이낸셜뉴스] 2026.01.29 16:31", "디지털데일리 2026.01.29 16:31:05"), other "|" fields allowed after it.
_OUTLET_DATE = re.compile(rf"^[ \t]*(?P<outlet>\[[^\]\n]{{1,20}}\]|[^\s\d|ㅣ│\[(<▲△※■][^\n|ㅣ│:：]{{0,24}}?)"
                          rf"[ \t]*(?P<sep>[|ㅣ│·/][ \t]*)?{_DATE_TIME.replace('?P<', '?P<o_')}[ \t]*(?:[|ㅣ│][^\n]*)?$",
                          re.MULTILINE)
#: Words of an outlet field that make it something else: an event's date, a deadline, a stamp label.
_NOT_OUTLET = re.compile(rf"일시|일정|기간|장소|마감|시한|접수|행사|{_STAMP_LABEL}")
#: Endings of a word before a date that make it a clause of a sentence, not a name (행사는 2026.02.10 14:00).
_PARTICLE_END = ("은", "는", "을", "를", "에", "의", "로", "서", "와", "과")
_LONE_DATE = re.compile(rf"^\s*{_DATE}\s*$")
_ISO = re.compile(r"((?:19|20)\d{2}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+\-]\d{2}:?\d{2})?)")

# A line that only holds page furniture: stamps, labels, share buttons.
_CHROME_LINE = re.compile(
    rf"^(?:{_STAMP_LABEL}\s*(?:일시|시간)?\s*[:：]?\s*(?:{_DATE})?\s*)+$"
    r"|^(?:구독|좋아요|싫어요|공유|댓글|기사\s*공유|공유하기|스크랩|프린트|인쇄|글자\s*크기|"
    r"SNS\s*기사\s*보내기|기사\s*보내기|페이스북|트위터|카카오톡|카카오스토리|네이버\s*블로그|"
    r"URL\s*복사|링크\s*복사|닫기|이전|다음|맨\s*위로|TOP|가|가\s*가|[\s\W]*)$", re.IGNORECASE)
_CAPTION_LINE = re.compile(r"^(?:[\[(<]\s*(?:사진|자료|그래픽|이미지|영상|출처|제공)\s*[=:：][^\])>]{0,60}[\])>]\s*)+$"
                           r"|^▲.*$|^△.*$|^\[?(?:사진|그래픽|자료)\s*[=:]\s*[^\]]{0,60}\]?$")
_INLINE_CAPTION = re.compile(r"\s*[\[(<]\s*(?:사진|자료|그래픽|이미지|출처)\s*[=:：][^\])>]{0,60}[\])>]")
_BYLINE_LINE = re.compile(r"^[\[(]?\s*(?:[가-힣A-Za-z·&]+\s*){0,4}\s*[가-힣]{2,4}\s*(?:기자|특파원|객원기자|선임기자|"
                          r"전문기자|논설위원|위원|평론가)\s*[\])]?\s*(?:[|ㅣ│/]\s*)?(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+)?\s*[|]?$")
_BYLINE_HEAD = re.compile(r"^(?:\[[^\]\n]{0,40}(?:기자|특파원|=[^\]]{0,20})\]\s*"
                          r"|\([^)\n]{0,20}=[^)\n]{0,20}\)\s*(?:[가-힣]{2,4}\s*(?:기자|특파원)\s*=\s*)?"
                          r"|【[^】\n]{0,40}】\s*)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_COPYRIGHT = re.compile(r"저작권자|무단\s*전재|재배포\s*금지|copyright|all\s*rights?\s*reserved|"
                        r"ⓒ.{0,30}(?:무단|금지|all)|©.{0,30}(?:무단|금지|all)", re.IGNORECASE)
_SHORT_CREDIT = re.compile(r"^\s*(?:[ⓒ©]\s*\S+(?:\s+\S+)?|\S+\s*[ⓒ©])\s*$")
_INLINE_CREDIT = re.compile(r"\s*[ⓒ©]\s*[가-힣A-Za-z0-9]+(?:뉴스|일보|경제|신문|통신|뉴시스|연합)?\s*$")
_FOOTER_WORDS = re.compile(r"상호|등록번호|등록일|사업자|발행인|편집인|발행일|청소년\s*보호|통신판매|대표이사|"
                           r"대표전화|전화|팩스|FAX|Tel|주소|본사|본점|제호|개인정보\s*(?:처리|보호)\s*(?:방침|책임자)|"
                           r"고충처리인|이메일|E-mail", re.IGNORECASE)
#: A paragraph that ends a sentence in 다/요: footers are lists of labels, never end like this.
_PROSE_END = re.compile(r"[다요][.!?][\"'”’」』)]*\s*$")
_PHONE = re.compile(r"\b0\d{1,2}-\d{3,4}-\d{4}\b|\b\d{3}-\d{2}-\d{5}\b")
_BLOCK_HEAD = re.compile(r"^(?:관련\s*기사|관련\s*뉴스|많이\s*본\s*(?:뉴스|기사)|인기\s*(?:기사|뉴스)|추천\s*(?:기사|뉴스)|"
                         r"주요\s*뉴스|최신\s*(?:기사|뉴스)|이\s*시각\s*(?:주요|인기)\s*뉴스|실시간\s*(?:뉴스|기사)|"
                         r"오늘의\s*(?:주요|인기)?\s*(?:뉴스|기사)|함께\s*보면\s*좋은\s*기사|기자의\s*다른\s*기사|"
                         r"(?:에디터|기자)\s*추천|포토\s*뉴스|랭킹\s*뉴스|핫\s*이슈)\s*[:>›»]?\s*$")
_SENTENCE_END = re.compile(r"[다요죠니까음함임됨][.!?]?[\"'”’」』)]*\s*$|[.!?][\"'”’」』)]*\s*$")

#: A line with this many footer words, or with a phone number and one footer word, is a
#: company-information footer. Chosen on outlet footers: real paragraphs almost never name two.
FOOTER_MIN_WORDS = 2
#: Lines after a related-article heading that are shorter than this and do not end a sentence
#: are headline links. News paragraphs in the seeds and fixtures are longer or end with 다.
LINK_LINE_MAX = 80


def clean_unicode(raw: str) -> str:
    """NFC, full-width ASCII to ASCII, NBSP and zero-width spaces, unified middle dots; keeps quotes."""
    text = unicodedata.normalize("NFC", raw).translate(_TABLE)
    return text.replace("\r\n", "\n").replace("\r", "\n")


#: Longest field of a "|"-separated masthead line (경인일보 | 입력 2026-05-07 14:20 | 지면 A1면).
MASTHEAD_FIELD_MAX = 30
_PIPES = re.compile(r"\s*[|ㅣ│]\s*")
_OUTLET_TAG = re.compile(r"^\[[^\]\n]{1,20}\]\s*")
_MASTHEAD_MARK = re.compile(rf"{_DATE}|{_STAMP_LABEL}|기자|특파원|보도자료")


def _is_masthead(line: str) -> bool:
    """A line of short "|"-separated fields with a date, stamp or byline among them, or "[매체] 입력 …"."""
    fields = [f for f in _PIPES.split(line) if f]
    if len(fields) >= 2 and all(len(f) <= MASTHEAD_FIELD_MAX for f in fields) and not _PROSE_END.search(line) \
            and any(_MASTHEAD_MARK.search(f) for f in fields):
        return True
    bare = _OUTLET_TAG.sub("", line)
    return bare != line and bool(_CHROME_LINE.match(bare) or _LONE_DATE.match(bare))


def _is_footer(line: str) -> bool:
    phone = bool(_PHONE.search(line))
    if not phone and _PROSE_END.search(line):
        return False  # "주소나 영업소가 없는 AI 사업자는 …해야 한다.": prose that names footer words
    words = len(_FOOTER_WORDS.findall(line))
    return words >= FOOTER_MIN_WORDS or (words >= 1 and bool(_PHONE.search(line))) or len(_PHONE.findall(line)) >= 2


def _clean_line(line: str) -> str:
    line = _BYLINE_HEAD.sub("", line)
    line = _INLINE_CAPTION.sub("", line)
    line = _EMAIL.sub("", line)
    line = _INLINE_CREDIT.sub("", line)
    return re.sub(r"[ \t]+", " ", line).strip()


def normalize_text(raw: str) -> str:
    """Scraped article text in, normalised text out: title line, then one paragraph per line."""
    lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in clean_unicode(raw).split("\n")]
    out: list[str] = []
    in_block = False
    for line in lines:
        if not line:
            continue
        if out and _COPYRIGHT.search(line):
            break  # the copyright line closes the article; what follows is footer
        if _BLOCK_HEAD.match(line):
            in_block = True
            continue
        if in_block:
            if len(line) < LINK_LINE_MAX and not _SENTENCE_END.search(line):
                continue
            in_block = False
        if (_CHROME_LINE.match(line) or _LONE_DATE.match(line) or _CAPTION_LINE.match(line)
                or _SHORT_CREDIT.match(line) or _is_footer(line) or _COPYRIGHT.search(line) or _is_masthead(line)):
            continue
        if _BYLINE_LINE.match(_EMAIL.sub("", line).strip() or "x") and len(line) < 60:
            continue
        if (outlet := _OUTLET_DATE.match(line)) and _outlet_line(outlet):
            continue  # 디지털데일리 2026.01.29 16:31:05: an outlet's masthead without separators
        cleaned = _clean_line(line)
        if cleaned and not _CHROME_LINE.match(cleaned) and not _LONE_DATE.match(cleaned):
            out.append(cleaned)
    return "\n".join(out)


def _to_datetime(m: re.Match[str]) -> datetime | None:
    found = {name.split("_")[-1].rstrip("2"): value for name, value in m.groupdict().items()
             if value is not None and name not in ("after", "outlet", "sep")}
    try:
        hour = int(found.get("h") or 0)
        if found.get("ampm") in ("오후", "PM") and hour < 12:
            hour += 12
        return datetime(int(found["y"]), int(found["mo"]), int(found["d"]), hour,
                        int(found.get("mi") or 0), int(found.get("s") or 0), tzinfo=KST)
    except (KeyError, ValueError):
        return None


def _outlet_line(m: re.Match[str]) -> bool:
    """True when an ``_OUTLET_DATE`` match is an outlet's masthead: a bracketed name, a name and a
    separator, or a name of one or two words that is no clause (no particle, no label)."""
    outlet = m.group("outlet").strip()
    if outlet.startswith("["):
        return True
    if _NOT_OUTLET.search(outlet) or _PROSE_END.search(outlet):
        return False
    words = outlet.split()
    return bool(m.group("sep")) or (len(words) <= 2 and not words[-1].endswith(_PARTICLE_END))


def _stamps(text: str) -> list[re.Match[str]]:
    """The publication stamps of ``text`` in text order: labelled stamps (입력 …, … 송고), bylines with a
    date (홍길동 기자 | …) and outlet mastheads (파이낸셜뉴스 | 2026.01.29 16:31)."""
    found: list[re.Match[str]] = []
    pos = 0
    while (m := _PUBLISHED.search(text, pos)) is not None:
        if m.group("after") and _LABEL_BEFORE.search(text[max(0, m.start() - 12):m.start()]):
            pos = m.start() + 1  # another stamp's date; its own label may follow (… 09:00 입력 2026.01.29)
            continue
        found.append(m)
        pos = m.end()
    found += [m for m in _OUTLET_DATE.finditer(text) if _outlet_line(m)]
    # 등록일자 : 2013년05월15일 in a company-information footer is the outlet's registration, not the article's
    return sorted((m for m in found if not _is_footer(_line_at(text, m.start()))), key=lambda m: m.start())


def _line_at(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start:end if end >= 0 else len(text)]


def find_published(raw: str) -> datetime | None:
    """The publication time stamped in raw article text (aware; KST when no zone), or None.

    A date in the body (an event's) is never taken: only a labelled stamp, a byline's or a masthead's
    date and time, a line that holds nothing but a date, or an ISO timestamp near the top.
    """
    text = clean_unicode(raw)
    for m in _stamps(text):
        when = _to_datetime(m)
        if when is not None:
            return when
    for line in text.split("\n")[:40]:
        lone = _LONE_DATE.match(line)
        if lone:
            return _to_datetime(lone)
    iso = _ISO.search(text[:3000])
    if iso:
        try:
            value = datetime.fromisoformat(iso.group(1).replace("Z", "+00:00"))
        except ValueError:
            return None
        return value if value.tzinfo else value.replace(tzinfo=KST)
    m = next((m for m in _STAMPED.finditer(text) if not _is_footer(_line_at(text, m.start()))), None)
    return _to_datetime(m) if m else None


def split_title(text: str) -> tuple[str, str]:
    """A normalised text split into (title, body); the title is its first line."""
    title, _, body = text.partition("\n")
    return title.strip(), body.strip()
