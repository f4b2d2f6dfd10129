"""Read a deed told in one message: "Hôm qua cùng đ/c Hoa giúp 5 hộ nghèo ở thôn Nà Lầm, 2tr5".

Rules, not a model: each value is found by a pattern table the bot could explain, and a value
that is doubtful stays empty, because the member confirms a card of what was read and an empty
line is asked for while a wrong one is easily confirmed by a hurried thumb.

Matching runs on the folded text (`bot.parsing.text.fold`: no diacritics, lower case), since
members type on phones that often drop the marks. Where the folded word is ambiguous ("thu hai"
is Monday or a harvest, "tang" is to give or to increase), the marks the member did type decide:
a word typed with marks must be the word the table means (`_Words.typed_as`).

Numbers are read in order, money first, then dates, then counts, and each one read is masked so
that "2tr5" is not also five of something and "25/11" is not 25 people.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from bot.parsing.dates import DateProblem, parse_date
from bot.parsing.money import parse_money
from bot.parsing.numbers import parse_whole_number
from bot.parsing.text import fold, normalize_multiline

# The report form's bounds (bot.forms.engine), repeated because the parsers import no form.
MIN_VALUE_VND = 1_000
MAX_VALUE_VND = 1_000_000_000_000
MAX_PEOPLE = 100_000
MAX_HOUSEHOLDS = 10_000
PLACE_CHARS = (2, 200)
# A longer "place" has run past its end into the rest of the sentence.
_PLACE_MAX_WORDS = 12
# How far before a count a helping verb may stand: "tặng quà Tết cho 12 hộ".
_VERB_REACH_WORDS = 6

_MASK = "\ue000"  # a private-use character: stands where a value already read was
_PUNCTUATION = r"[,.;:!?()\[\]\n\"]"
# Where a place or a tail of digits stops: punctuation, or a value already read.
_BREAK = rf"(?:{_PUNCTUATION}|{_MASK})"


@dataclass(frozen=True)
class QuickReading:
    description: str
    """The member's whole message, normalised: it is the report's content."""
    deed_date: dt.date | None
    date_doubtful: bool
    """A date seemed to be said but cannot be used (31/02, future, too old, two different
    days): the card asks for the date instead of assuming today."""
    value_vnd: int | None
    people_helped: int | None
    households_helped: int | None
    place: str | None
    model_id: int | None
    participant_ids: tuple[int, ...]
    field: str | None


class _Words:
    """A table of words as written with diacritics, matched on folded text.

    `typed_as` then rejects a match whose typed marks show another word: "thu hái" (harvest)
    is not "thứ hai" (Monday), though "thu hai" may be either and is taken.
    """

    def __init__(self, *phrases: str) -> None:
        folded = sorted({fold(phrase) for phrase in phrases}, key=len, reverse=True)
        self.pattern = "|".join(_phrase_pattern(phrase) for phrase in folded)
        self._spellings = frozenset(word for phrase in phrases for word in phrase.lower().split())

    def typed_as(self, original: str) -> bool:
        return all(word.isascii() or word in self._spellings for word in original.lower().split())


def _phrase_pattern(folded: str) -> str:
    return r"\s+".join(re.escape(word) for word in folded.split())


def _whole(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)")


class _Message:
    """The message typed, and its folded form with the place each folded character came from,
    so that what is found in the folded text is given back as the member spelt it."""

    def __init__(self, text: str) -> None:
        self.original = normalize_multiline(text)
        folded: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(self.original):
            # fold() drops whitespace at the ends, which is all a lone space is.
            for piece in char if char.isspace() else fold(char):
                folded.append(piece)
                origin.append(index)
        self.folded = "".join(folded)
        self.masked = self.folded
        self._origin = origin

    def typed(self, start: int, end: int) -> str:
        """The original text behind folded[start:end]."""
        if start >= end:
            return ""
        return self.original[self._origin[start]:self._origin[end - 1] + 1]

    def mask(self, start: int, end: int) -> None:
        self.masked = self.masked[:start] + _MASK * (end - start) + self.masked[end:]


def looks_like_report(text: str, min_chars: int) -> bool:
    """False for what is not a deed: greetings, thanks, "ok"/"vâng"/"dạ"-like replies, emoji or
    punctuation only, fewer than `min_chars` letters or fewer than 3 words; and chat that reads
    as small talk ("em nhận được rồi ạ", "chúc mừng năm mới", "cho em hỏi") unless something in
    it tells a deed (`_tells_a_deed`), so "Chúc Tết 10 hộ nghèo, tặng quà" stays a report."""
    folded = fold(text)
    words = re.findall(r"[^\W_]+", folded)
    if sum(char.isalpha() for char in folded) < min_chars or len(words) < 3:
        return False
    if all(word in _SMALL_TALK for word in words):
        return False
    message = _Message(text)
    return not (_small_talk_said(message) and not _tells_a_deed(message))


# Folded words of greetings, thanks and short replies: a message of only these is no deed.
_SMALL_TALK = frozenset({
    "chao", "xin", "hello", "hi", "hey", "alo", "lo", "cam", "on", "thanks", "thank", "you", "ok",
    "oke", "okay", "okie", "vang", "da", "u", "uh", "a", "ah", "nhe", "nha", "nhieu", "rat", "lam",
    "dong", "chi", "anh", "em", "ban", "bac", "chu", "co", "cac", "moi", "nguoi", "ca", "toi",
    "minh", "tot", "roi", "duoc", "good", "morning", "yes", "buoi", "sang", "chieu", "chuc",
    "khoe", "tam", "biet", "bye",
})
def read_quick_report(
    text: str,
    *,
    today: dt.date,
    max_age_days: int,
    keywords: Mapping[str, Sequence[str]],
    models: Sequence[tuple[int, str]],
    members: Sequence[tuple[int, str]],
    previous_field: str | None,
    others: Sequence[tuple[int, str]] = (),
) -> QuickReading:
    """What `text` says, each value None (or empty) when it was not said or is doubtful.

    `keywords` maps each field to its words (config.toml, [report.keywords]); `models` are the
    (id, name) pairs open to the unit; `members` the (id, full name) of the unit without the
    reporter, `others` those of the wider subtree a report may also name (a name of both means
    the unit's own); `previous_field` breaks a tie between fields.
    """
    message = _Message(text)
    value = _money(message)
    deed_date, date_doubtful = _date(message, today, max(0, max_age_days))
    people, households = _counts(message)
    return QuickReading(
        description=message.original,
        deed_date=deed_date,
        date_doubtful=date_doubtful,
        value_vnd=value,
        people_helped=people,
        households_helped=households,
        place=_place(message),
        model_id=_model(message.folded, models),
        participant_ids=_participants(message, _names(members, others)),
        field=_field(message.folded, keywords, previous_field),
    )


def _only(values: Sequence[int | None]) -> int | None:
    """The value said, if every mention agrees and none was doubtful (None)."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


# --- money ---------------------------------------------------------------------------------------

_NUMBER = r"\d+(?:[.,]\d+)*"
_UNIT = r"(?:trieu|tr|nghin|ngan|k|ty|ti|million|billion|bn)"
_CURRENCY = r"(?:vnd|dong|d)"
# A bare digit after a unit is its decimal part ("2tr5") only when glued to it or ending the
# clause: "2 triệu 5 hộ" is two million and five households.
_TAIL = rf"(?:\d+|\s*ruoi|\s+\d+(?=\s*(?:{_BREAK}|$|{_CURRENCY}(?!\w))))"
_MONEY = re.compile(
    # "m" alone is metres in "50m đường bê tông"; it means million only after an English verb.
    rf"(?<![\w.,/])(?P<cue>(?:donated|gave|raised|contributed|spent|worth|supported)\s+)?"
    rf"(?P<amount>(?(cue){_NUMBER}\s*m|(?!))"
    rf"|{_NUMBER}\s*{_UNIT}(?:\s*{_NUMBER}\s*{_UNIT})*(?:{_TAIL})?(?:\s*{_CURRENCY})?"
    rf"|{_NUMBER}\s*{_CURRENCY}"
    rf"|\d{{1,3}}(?:\.\d{{3}}){{2,}}|\d{{1,3}}(?:,\d{{3}}){{2,}}"
    rf")(?!\w)"
)
# "mỗi suất 500k", "500k/suất": the price of one gift, not what was given in all.
_EACH_BEFORE = re.compile(r"(?<!\w)(?:moi|each|per)(?:\s+\w+)?\s*$")
_EACH_AFTER = re.compile(r"\s*(?:/\s*\w|(?:moi|each|per)\s+\w+)")


def _money(message: _Message) -> int | None:
    amounts: list[int | None] = []
    for match in _MONEY.finditer(message.masked):
        start, end = match.span("amount")
        message.mask(start, end)
        amount = parse_money(match["amount"])
        each = _EACH_BEFORE.search(message.folded, max(0, start - 30), start) or (
            _EACH_AFTER.match(message.folded, end))
        plausible = amount is not None and MIN_VALUE_VND <= amount <= MAX_VALUE_VND
        amounts.append(amount if plausible and not each else None)
    return _only(amounts)


# --- the day -------------------------------------------------------------------------------------

_DATE_WORDS = _Words(
    "hôm nay", "hôm qua", "hôm kia", "ngày mai", "sáng", "trưa", "chiều", "tối", "đêm", "nay",
    "qua",
    "thứ hai", "thứ ba", "thứ tư", "thứ năm", "thứ sáu", "thứ bảy", "thứ bẩy", "chủ nhật",
    "tuần trước", "tuần rồi", "vừa rồi", "vừa qua", "ngày", "tháng", "năm",
)
_WEEKDAY = r"(?:thu\s*[2-7]|t[2-7]|thu\s+(?:hai|ba|tu|nam|sau|bay)|chu\s*nhat|cn)"
_ENGLISH_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_DATE = re.compile(
    rf"(?<![\w/.-])(?:"
    rf"(?P<relative>hom\s+(?:nay|qua|kia)|ngay\s+mai|(?:day\s+before\s+)?yesterday|today"
    rf"|tomorrow)"
    rf"|(?P<part>sang|trua|chieu|toi|dem)\s+(?P<part_of>nay|qua)"
    rf"|(?P<weekday>{_WEEKDAY}(?:\s+(?:tuan\s+truoc|tuan\s+roi|vua\s+roi|vua\s+qua))?)"
    rf"|(?P<english>(?:on\s+)?(?:last\s+)?{_ENGLISH_DAY})"
    # Only "/" goes without a year: "2.5 ha" and "5-7 người" are not dates.
    rf"|(?P<numeric>\d{{1,2}}\s*/\s*\d{{1,2}}(?:\s*/\s*\d{{2,4}})?"
    rf"|\d{{1,2}}(?P<sep>[.-])\d{{1,2}}(?P=sep)\d{{2,4}})"
    rf"|ngay\s+(?P<day>\d{{1,2}})(?:\s+thang\s+(?P<month>\d{{1,2}})(?:\s+nam\s+(?P<year>\d{{4}}))?)?"
    rf")(?![\w/])"
)


def _date(message: _Message, today: dt.date, max_age_days: int) -> tuple[dt.date | None, bool]:
    days: set[dt.date | None] = set()
    for match in _DATE.finditer(message.masked):
        if match["english"] is None and not _DATE_WORDS.typed_as(message.typed(*match.span())):
            continue
        if _ordinal(message, match) or _not_a_part_of_day(message, match):
            continue
        message.mask(*match.span())
        days.add(_day(_as_date_answer(match, today), today, max_age_days))
    if not days:
        return None, False
    if len(days) == 1 and None not in days:
        return days.pop(), False
    return None, True


# "thứ N" after these is the Nth of them, not a weekday: "lần thứ 2", "năm thứ 3", "giải thứ
# nhất", "ngày thứ 5 của chiến dịch", "xếp theo thứ tự" ("thu tu" once its marks are gone).
_ORDINAL_HEAD = re.compile(
    r"(?<!\w)(?:lan|nam|giai|hang|lop|con|dot|buoi|ky|khoa|tang|ngay|tuan|thang|vong|phan|bai"
    r"|nguoi|so|theo)\s+$"
)
# …unless the week is named too: "ngày thứ 7 vừa rồi" is last Saturday.
_WEEK_SAID = re.compile(r".*\s(?:tuan|vua)\s")


def _ordinal(message: _Message, match: re.Match[str]) -> bool:
    return (
        match["weekday"] is not None and match["weekday"].startswith("thu")
        and _WEEK_SAID.match(match["weekday"]) is None
        and _ORDINAL_HEAD.search(message.masked, 0, match.start()) is not None
    )


# Without its marks "toi" is as often "tôi" (I) as "tối" (evening): "tôi qua nhà bà Xuân" is "I
# went over to Mrs Xuân's". It is taken for the evening only where "tôi" cannot stand: after
# "vào"/"buổi" or after another "tôi" ("chúng tôi tối qua"), before a subject ("tối qua chúng
# tôi…"), a clock time ("toi qua 20h") or a comma when it opens the message or a sentence
# ("Toi qua, chi bo hop"). A verb after it is no proof ("tôi qua giúp bà" is "I came to help"),
# so "toi qua hop chi bo" is left unread: the member is asked, or the caller's today stands.
_EVENING_BEFORE = re.compile(r"(?<!\w)(?:vao|buoi|toi)\s+$")
_EVENING_AFTER = re.compile(
    r"\s+(?:toi|chung\s+(?:toi|em|minh))(?!\w)|\s+\d{1,2}\s*(?:h|gio)(?:\s*\d{1,2})?(?!\w)"
)
_COMMA_AFTER = re.compile(r"\s*[,:;]")
_SENTENCE_START = re.compile(r"(?:^|[.!?\n])\s*$")
# Likewise "sang qua" and "dem qua" are "sang qua" (go over) and "đem qua" (bring over) as often
# as "sáng qua", "đêm qua": not when where to or what for follows ("sang qua nhà bác", "dem qua
# cho ba con").
_GOING_OVER = re.compile(
    r"\s+(?:nha|ben|do|day|kia|cho|lai|thon|ban|xa|xom|lang|truong|tram|cau|song|suoi|duong"
    r"|giup|tham|tang|trao)(?!\w)"
)


def _not_a_part_of_day(message: _Message, match: re.Match[str]) -> bool:
    part = match["part"]
    if part is None or not message.typed(*match.span("part")).isascii():
        return False
    if part == "toi":
        said = (
            _EVENING_BEFORE.search(message.masked, 0, match.start())
            or _EVENING_AFTER.match(message.masked, match.end())
            or (_COMMA_AFTER.match(message.masked, match.end())
                and _SENTENCE_START.search(message.masked, 0, match.start()))
        )
        return said is None
    return part in ("sang", "dem") and match["part_of"] == "qua" and (
        _GOING_OVER.match(message.masked, match.end()) is not None)


def _as_date_answer(match: re.Match[str], today: dt.date) -> str:
    """The phrase found, put the way bot.parsing.dates reads a date answer."""
    if match["part_of"] is not None:
        return f"hom {match['part_of']}"
    if match["day"] is None:
        return match.group()
    if match["month"] is not None:
        return "/".join(part for part in (match["day"], match["month"], match["year"]) if part)
    # "ngày 25" alone: the latest 25th, this month's or else the month before's.
    month = today.month if int(match["day"]) <= today.day else (today.month - 2) % 12 + 1
    return f"{match['day']}/{month}"


def _day(answer: str, today: dt.date, max_age_days: int) -> dt.date | None:
    try:
        parsed = parse_date(answer, today, max_age_days)
    except OverflowError:  # "hôm qua" on 1 January of year 1
        return None
    return None if isinstance(parsed, DateProblem) else parsed.value


# --- people and households helped -------------------------------------------------------------

# "cho" (for) names who got something: "trao 50 chăn ấm cho 50 hộ".
_HELPING = _Words(
    "giúp", "giúp đỡ", "hỗ trợ", "tặng", "tặng quà", "trao", "trao quà", "trao tặng", "thăm",
    "thăm hỏi", "ủng hộ", "khám", "khám bệnh", "khám cho", "cấp phát", "phát", "phát quà", "dạy",
    "dạy học", "kèm", "cứu trợ", "chăm sóc", "sửa", "sửa nhà", "xây", "xây nhà", "tư vấn",
    "cho", "for", "helped", "help", "assisted", "supported", "gave", "donated", "visited", "taught",
    "treated",
)
# "thăm" in "tham gia" is taking part; "phát" in "phát triển" is not handing out.
_NOT_HELPING_AFTER = r"(?!\s+(?:gia|du|trien|dong|hien|huy|bieu)(?!\w))"
_HELPING_VERB = re.compile(rf"(?<!\w)(?:{_HELPING.pattern})(?!\w){_NOT_HELPING_AFTER}")
_HOUSEHOLDS = _Words("hộ", "hộ gia đình", "gia đình", "households", "families", "family")
_PEOPLE = _Words(
    "người", "người dân", "cháu", "em", "học sinh", "cụ", "bà con", "trẻ em", "trẻ", "bệnh nhân",
    "thương binh", "người cao tuổi", "đối tượng", "thiếu nhi", "phụ nữ", "bà mẹ", "nhân khẩu",
    "people", "persons", "children", "kids", "students", "pupils", "elderly", "patients",
    "villagers",
)
_COUNT = re.compile(
    rf"(?<![\w.,/])(?P<number>\d{{1,3}}(?:[.,]\d{{3}})+|\d+)\s*"
    rf"(?:(?P<households>{_HOUSEHOLDS.pattern})|(?P<people>{_PEOPLE.pattern}))(?!\w)"
    # Those who took part are not those helped: "30 người tham gia", "cùng 4 người".
    rf"(?!\s+(?:tham\s+gia|tham\s+du|cung|joined|took\s+part)(?!\w))"
)
_ALONGSIDE = re.compile(r"(?<!\w)(?:cung|voi|gom|with)\s*$")


def _counts(message: _Message) -> tuple[int | None, int | None]:
    found: dict[str, list[int | None]] = {"people": [], "households": []}
    for match in _COUNT.finditer(message.masked):
        kind = "households" if match["households"] else "people"
        words, bound = (_HOUSEHOLDS, MAX_HOUSEHOLDS) if match["households"] else (
            _PEOPLE, MAX_PEOPLE)
        if words.typed_as(message.typed(*match.span(kind))) and _helped(message, match.start()):
            number = parse_whole_number(match["number"])
            found[kind].append(number if number is not None and number <= bound else None)
    return _only(found["people"]), _only(found["households"])


def _helped(message: _Message, start: int) -> bool:
    """A helping verb stands a few words before, in the same clause, and nothing says the
    number is of those who came along."""
    clause = re.split(_PUNCTUATION, message.masked[:start])[-1]
    if _ALONGSIDE.search(clause):
        return False
    words = list(re.finditer(r"\S+", clause))[-_VERB_REACH_WORDS:]
    if not words:
        return False
    offset = start - len(clause)
    reach = clause[words[0].start():]
    return any(
        _HELPING.typed_as(message.typed(offset + words[0].start() + verb.start(),
                                        offset + words[0].start() + verb.end()))
        for verb in _HELPING_VERB.finditer(reach)
    )


# --- small talk --------------------------------------------------------------------------------

# What chat says and a deed told does not: a receipt ("nhận được"), wishes, a question, asking
# leave or pardon. Each phrase is checked against the marks typed, so "chi hội" is no "hỏi".
_CHAT = _Words(
    "nhận được", "chúc mừng", "năm mới", "sinh nhật", "xin phép", "xin lỗi", "cho hỏi",
    "cho em hỏi", "cho tôi hỏi", "cho mình hỏi", "cho cháu hỏi", "cho con hỏi", "xin hỏi",
    "muốn hỏi", "hỏi chút", "hỏi xíu", "hỏi tí", "hỏi về", "ngủ ngon", "received",
    "congratulations", "happy new year",
)
_CHAT_PHRASE = _whole(_CHAT.pattern)
# "Chúc …" opening the message is a wish ("chúc đồng chí mạnh khỏe"), unless a deed follows.
_WISH_FIRST = re.compile(r"\W*chuc(?!\w)")
# Deeds that need no count to be told: the helping verbs but "cho"/"for" (which chat uses too),
# and the work of a commune's members, said in full where one word alone would also be
# another once its marks are gone ("trong" is "in" as often as "trồng", "day" is "đây");
# "chúc Tết", "chúc thọ" are visits members report.
_DEED = _Words(
    "giúp", "giúp đỡ", "hỗ trợ", "tặng", "trao", "thăm", "ủng hộ", "khám", "cấp phát", "phát quà",
    "dạy học", "dạy chữ", "kèm cặp", "cứu trợ", "chăm sóc", "sửa nhà", "sửa chữa", "xây nhà",
    "xây dựng", "tư vấn", "trồng cây", "trồng rừng", "dọn vệ sinh", "dọn rác", "dọn dẹp",
    "tuần tra", "canh gác", "quyên góp", "đóng góp", "vận động", "tuyên truyền", "hiến máu",
    "hiến đất", "đỡ đầu", "chúc tết", "chúc thọ", "mừng thọ", "thu gom", "phát quang",
    "làm đường",
    "helped", "gave", "donated", "visited", "taught", "treated", "planted", "cleaned",
    "patrolled",
)
# "thăm" in "tham gia" is taking part, as for the counts.
_DEED_WORD = re.compile(rf"(?<!\w)(?:{_DEED.pattern})(?!\w){_NOT_HELPING_AFTER}")
# A number of something: money, people or households helped, or goods ("10kg gạo", "50 cây").
_GOODS = r"(?:kg|tan|ta|m|km|ha|suat|phan|bao|cay|con|chiec|bo|thung|lit|cai)"
_AMOUNT_OF = re.compile(
    rf"(?<![\w.,/])\d+(?:[.,]\d+)*\s*(?:{_UNIT}|{_CURRENCY}|{_GOODS}|{_HOUSEHOLDS.pattern}"
    rf"|{_PEOPLE.pattern})(?!\w)"
)


def _small_talk_said(message: _Message) -> bool:
    if message.folded.rstrip().endswith("?") or _WISH_FIRST.match(message.folded):
        return True
    return any(_CHAT.typed_as(message.typed(*found.span()))
               for found in _CHAT_PHRASE.finditer(message.folded))


def _tells_a_deed(message: _Message) -> bool:
    """A deed's own signs: a deed verb typed as one, or a number of money, people or goods.
    A date is not one ("Chúc mừng ngày Nhà giáo 20/11"), nor a field's keyword, which this
    check cannot see (config.toml is the caller's) and which wishes share ("chúc mừng năm mới",
    "Tết")."""
    if _AMOUNT_OF.search(message.folded):
        return True
    return any(_DEED.typed_as(message.typed(*found.span()))
               for found in _DEED_WORD.finditer(message.folded))


# --- the place ----------------------------------------------------------------------------------

_AT = _Words("ở", "tại", "at")
# After a bare "o" or "tai", which could be other words once the marks are gone, a place must
# follow: one of these words or a capitalised name.
_PLACE_WORDS = _Words(
    "thôn", "xóm", "bản", "xã", "phường", "thị trấn", "nhà văn hóa", "trường", "điểm trường",
    "chợ", "khu", "tổ", "ấp", "làng", "đình", "chùa", "trạm y tế", "ubnd", "hội trường",
    "nhà", "đồn", "đường", "suối", "đồi", "nương", "huyện", "village", "commune", "school",
    "market", "hamlet",
)
_PLACE_START = re.compile(rf"(?<!\w)(?:{_AT.pattern})\s+(?=\w)")
_PLACE_WORD = re.compile(rf"(?:{_PLACE_WORDS.pattern})(?!\w)")
# Where a place stops: the next clause, told by its first word.
_PLACE_ENDS = _Words(
    "cùng", "giúp", "hỗ trợ", "với", "vào", "ngày", "hôm", "sáng", "chiều", "tối", "trưa", "đêm",
    "lúc", "về", "tặng", "trao", "thăm", "ủng hộ", "để", "cho", "sửa", "làm", "dọn", "xây", "trồng",
    "phát", "dạy", "khám", "thu gom", "họp", "tổ chức", "vận động", "được", "đã", "và", "thứ",
    "chủ nhật", "yesterday", "today", "on", "last", "with", "for",
)
_PLACE_END = re.compile(rf"\s*(?P<mark>{_BREAK})|\s(?P<word>{_PLACE_ENDS.pattern})(?!\w)")


_WORD = re.compile(r"\S+")


def _name_end(message: _Message, start: int, end: int) -> int:
    """Where the place's name ends: "bản Sà Phìn tháo dỡ chuồng trại" is "bản Sà Phìn". After
    a capitalised word or a number only another place word may follow ("trường THCS xã")."""
    named = False
    for word in _WORD.finditer(message.masked, start, end):
        first = message.typed(word.start(), word.start() + 1)
        if first.isupper() or first.isdigit():
            named = True
        elif _PLACE_WORD.match(message.masked, word.start()):
            named = False
        elif named:
            return word.start()
    return end


def _ends_place(typed: str) -> bool:
    """A capitalised word belongs to a name: "Na Lam" is not "nà làm" (and does)."""
    return _PLACE_ENDS.typed_as(typed) and not typed[:1].isupper()


def _place(message: _Message) -> str | None:
    for start in _PLACE_START.finditer(message.masked):
        place = _place_after(message, start.start(), start.end())
        if place is not None:
            return place
    return None


def _place_after(message: _Message, at: int, start: int) -> str | None:
    preposition = message.typed(at, start).strip()
    first_word = re.match(r"\w+", message.masked[start:])
    if first_word is None or not _AT.typed_as(preposition):
        return None
    said_plainly = not preposition.isascii()
    if not (said_plainly or _PLACE_WORD.match(message.masked, start)
            or message.typed(start, start + 1).isupper()):
        return None
    end = next(
        (stop.start() for stop in _PLACE_END.finditer(message.masked, start + first_word.end())
         if stop["mark"] or _ends_place(message.typed(*stop.span("word")))),
        len(message.masked),
    )
    place = message.typed(start, _name_end(message, start, end)).strip()
    fits = PLACE_CHARS[0] <= len(place) <= PLACE_CHARS[1]
    return place if fits and len(place.split()) <= _PLACE_MAX_WORDS else None


# --- the model, the people who came along, the field -------------------------------------------

_MODEL_PREFIX = "mo hinh "


def _model(folded: str, models: Sequence[tuple[int, str]]) -> int | None:
    found = {
        model_id for model_id, name in models
        if any(_contains(folded, key) for key in _model_keys(fold(name)))
    }
    return found.pop() if len(found) == 1 else None


def _model_keys(name: str) -> set[str]:
    return {key for key in (name, name.removeprefix(_MODEL_PREFIX)) if key}


def _contains(folded: str, phrase: str) -> bool:
    return _whole(_phrase_pattern(phrase)).search(folded) is not None


# "đ/c" is also typed "đ.c", "đc" or "dc"; but "đc"/"dc" is as often "được" shortened, so alone
# (not after "cùng", "với" or in a list) it names someone only where a clause opens: "Đc Mai
# cùng tôi…", not "em đc Mai giúp" (was helped by Mai).
_ALONG = _Words("cùng", "cùng với", "với", "đ/c", "đ.c", "đc", "đồng chí", "with")
_ALONG_START = re.compile(rf"(?<!\w)(?:{_ALONG.pattern})(?!\w)\s*")
_TITLE = re.compile(r"(?:(?:cac|d/c|d\.c|dc|dong\s+chi|anh|chi|co|chu|bac|ong|ba|mr|ms|mrs)\s+)*")
_CLAUSE_OPENS = re.compile(rf"(?:^|{_PUNCTUATION})\s*$")
_AND = re.compile(r"\s*(?:,|&|\s(?:va|and|voi|cung)(?!\w))\s*")


def _participants(message: _Message, names: dict[str, set[int]]) -> tuple[int, ...]:
    found: dict[int, None] = {}  # ordered, without repeats
    for start in _ALONG_START.finditer(message.folded):
        if start.group().strip() == "dc" and not _CLAUSE_OPENS.search(message.folded, 0,
                                                                       start.start()):
            continue
        if _ALONG.typed_as(message.typed(*start.span())):
            for person in _listed(message.folded, start.end(), names):
                found[person] = None
    return tuple(found)


def _names(members: Sequence[tuple[int, str]],
           others: Sequence[tuple[int, str]]) -> dict[str, set[int]]:
    """Each way a member may be named (full name, or its last one, two, … words, down to the
    given name) with everyone it could mean: the unit's own members, else the `others`."""
    own = _ways_named(members)
    return {**_ways_named(others), **own}


def _ways_named(members: Sequence[tuple[int, str]]) -> dict[str, set[int]]:
    names: dict[str, set[int]] = {}
    for person, full_name in members:
        words = fold(full_name).split()
        for first in range(len(words)):
            names.setdefault(" ".join(words[first:]), set()).add(person)
    return names


def _listed(folded: str, position: int, names: dict[str, set[int]]) -> Iterator[int]:
    """The members named in a list starting at `position`: "Hoa, đ/c Bình và Lan". A name
    that could be two members is left out; a name of nobody in the unit is stepped over."""
    while True:
        title = _TITLE.match(folded, position)
        position = title.end() if title else position
        said = _longest_name(folded, position, names)
        if said is None:
            word = re.match(r"\w+", folded[position:])
            if word is None:
                return
            said, people = word.group(), set()
        else:
            people = names[said]
        if len(people) == 1:
            yield next(iter(people))
        following = _AND.match(folded, position + len(said))
        if following is None:
            return
        position = following.end()


def _longest_name(folded: str, position: int, names: dict[str, set[int]]) -> str | None:
    said = [
        name for name in names
        if folded.startswith(name, position) and not folded[position + len(name):][:1].isalnum()
    ]
    return max(said, key=len) if said else None


def _field(
    folded: str, keywords: Mapping[str, Sequence[str]], previous_field: str | None
) -> str | None:
    hits = {field: sum(_occurrences(folded, fold(word)) for word in words)
            for field, words in keywords.items()}
    best = max(hits.values(), default=0)
    if best == 0:
        return None
    leaders = [field for field, count in hits.items() if count == best]
    if len(leaders) == 1:
        return leaders[0]
    return previous_field if previous_field in leaders else None


def _occurrences(folded: str, word: str) -> int:
    return len(_whole(_phrase_pattern(word)).findall(folded)) if word else 0
