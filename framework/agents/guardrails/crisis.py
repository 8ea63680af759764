"""The ``crisis`` guardrail: a user message that speaks of self-harm or suicide (English or
Chinese, direct or indirect) gets a fixed safe answer with hotline information, never a model's.

Detection is curated phrase patterns, not a model: each rule is a regular expression over the
normalised message (lower case, straight quotes, one space), with two guards against false alarms:

- **negation**: a negator in the few words (English) or characters (Chinese) just before the
  match, in the same clause (``I would never hurt myself``, ``我不会自杀``), cancels it;
- **third party**: rules about suicide as a topic fire only when the clause does not speak of a
  film, a book, the news or someone else (and, in English, does speak of the user: ``I``/``my``;
  Chinese often leaves the subject out).

Harmless idioms (``this traffic is killing me``, ``笑死我了``, ``想死你了``, ``杀毒软件``) match no
rule: the rules name the self (``myself``, ``my life``, ``自己``) or a wish to die or not to live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from framework.agents.guardrails import Guardrail, Trip, language_of

__all__ = ["CrisisGuardrail", "DEFAULT_MESSAGES", "detect"]

DEFAULT_MESSAGES = {
    "en": (
        "I'm really sorry you're feeling this way, and I'm glad you told me. What you're going "
        "through sounds very painful, and you deserve support from a person right now.\n\n"
        "If you might act on these thoughts or are in danger, please call your local emergency "
        "number now.\n"
        "- US: call or text 988 (988 Suicide & Crisis Lifeline)\n"
        "- UK and Ireland: Samaritans, 116 123\n"
        "- China: 全国心理援助热线 400-161-9995; 北京心理危机研究与干预中心 010-82951332\n"
        "- Elsewhere: find a local helpline at https://findahelpline.com\n\n"
        "If you can, reach out to someone you trust and let them know how you feel.\n\n"
        "(This is information, not a diagnosis. I am an automated assistant and cannot help in an "
        "emergency.)"
    ),
    "zh": (
        "听到你这么难受，我很心疼，也谢谢你愿意说出来。你现在承受的痛苦很重，你值得马上得到真人的帮助。\n\n"
        "如果你可能会伤害自己或正处在危险中，请立即拨打 120 或 110。\n"
        "- 全国心理援助热线：400-161-9995\n"
        "- 北京心理危机研究与干预中心：010-82951332\n"
        "- 在美国：拨打或发短信至 988；其他地区可在 https://findahelpline.com 查找当地热线\n\n"
        "如果可以，请联系一位你信任的人，告诉他你现在的感受。\n\n"
        "（以上为求助信息，不是诊断。我是自动助手，无法在紧急情况下提供帮助。）"
    ),
}

_EN_NEGATORS = re.compile(
    r"\b(never|not|no longer|don'?t|do not|won'?t|will not|wouldn'?t|would not|didn'?t|"
    r"did not|isn'?t|am not|i'?m not)\b")
_ZH_NEGATORS = re.compile(r"(不会|不要|不可能|从不|从没|从来没|没有|绝不|决不|并不|别)")
_EN_THIRD = re.compile(
    r"\b(he|she|they|him|his|her|them|friend|character|hero|heroine|movie|film|book|novel|"
    r"song|article|news|study|research|essay|documentary|series|show|squad|author|poet|"
    r"writer|singer|actor|actress)\b")
_ZH_THIRD = re.compile(r"(他|她|它|电影|小说|新闻|主角|角色|文章|研究|论文|纪录片|歌|剧|小队|作家|诗人)")
_EN_SELF = re.compile(r"\b(i|i'?m|i'?ve|i'?d|i'?ll|me|my|myself)\b")
_CLAUSE = re.compile(r"[.!?;,\n。！？；，]")


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: re.Pattern[str]
    topic: bool = False
    """True: the rule matches suicide as a topic, so it needs the user as the subject and no
    third party in the clause."""


def _en(rule: str, pattern: str, topic: bool = False) -> Rule:
    return Rule(rule, re.compile(pattern), topic)


_SELF = r"my ?self"
EN_RULES: tuple[Rule, ...] = (
    _en("en.harm_self", r"\b(kill|killing|hurt|hurting|harm|harming|cut|cutting|hang|hanging|"
        r"shoot|shooting|drown|drowning|poison|poisoning|starve|starving|burn|burning)"
        rf"(s|ed)?\s+{_SELF}\b(?!\s+(a|an|some|another|free|loose|short|off from)\b)"),
    _en("en.self_harm", r"\bself[- ]?harm(ing|ed)?\b", topic=True),
    _en("en.suicidal", r"\bsuicidal\b", topic=True),
    _en("en.suicide_act", r"\b(commit|committing|attempt|attempting|attempted|thinking about|"
        r"think about|thoughts of|considering|consider|planning|plan)\s+(to\s+)?(commit\s+)?"
        r"suicide\b", topic=True),
    _en("en.suicide_note", r"\b(suicide|goodbye) (note|letter)\b", topic=True),
    _en("en.want_die", r"\b(i|i'?m|i am|i just|i really|i honestly)\b[^.!?;,]{0,20}?"
        r"\b(want|wanna|wish|need|going|gonna|ready|plan|planning|deserve)\s+(to\s+)?die\b"
        r"(?!\s+(laughing|of laughter|of embarrassment|of boredom))"),
    _en("en.wish_dead", r"\bi wish (i was|i were|i'?d) (dead|never born|gone)\b|"
        r"\bi wish i (had|'?d) never been born\b"),
    _en("en.not_live", r"\b(don'?t|do not|dont|no longer)\s+(really\s+)?(want|wish)\s+to\s+"
        r"(be alive|live|exist|be here|wake up|go on)\b"
        r"(?!\s+(in|with|at|near|on|like that|there|abroad|together|alone|early|late|at|so)\b)"),
    _en("en.unsure_live", r"\bnot sure (i|if i|that i) (want to|can) (live|be alive|go on|keep "
        r"living)\b"),
    _en("en.end_life", r"\b(end|ending|take|taking|ended|took)\s+(my|my own)\s+life\b"),
    _en("en.end_all", r"\b(end|ending) it all\b|\b(end|ending) everything\b(?!\s+(at|on|in|by)\b)"),
    _en("en.better_off", r"\b(better off|happier|easier)\s+(if i (was|were) )?(without me|dead|"
        r"if i (was|were) (dead|gone))\b"),
    _en("en.no_reason", r"\b(no|nothing|no reason|no point)\s+(left\s+)?(to live for|in living|"
        r"(for me )?to (live|keep living|go on|be alive))\b"),
    _en("en.cant_go_on", r"\bi (can'?t|cannot|can not) (go on|keep going|keep living)"
        r"( living| like this| anymore| any more)?\b"),
    _en("en.never_wake", r"\b(sleep|go to sleep|fall asleep) and never wake up\b|"
        r"\bnever wake up again\b"),
    _en("en.overdose", r"\b(overdose|overdosing|od'?ing)\b|\b(take|taking|swallow|swallowing)\s+"
        r"(all|all of|a bunch of|the whole bottle of|a handful of|every one of)\s+(my\s+|the\s+)?"
        r"(pills|tablets|sleeping pills|meds|medication)\b"),
    _en("en.jump", r"\b(want|going|gonna|thinking about|planning|plan|ready)\s+(to\s+)?"
        r"(jump|jumping)\s+(off|from|in front of)\b"),
    _en("en.disappear", r"\b(disappear|vanish|be gone) forever\b"),
)


def _zh(rule: str, pattern: str, topic: bool = False) -> Rule:
    return Rule(rule, re.compile(pattern), topic)


ZH_RULES: tuple[Rule, ...] = (
    _zh("zh.not_live", r"不想(再)?活(了|下去|着|啦)|不想再活|活不下去|不想继续活"),
    _zh("zh.meaningless", r"活着(真的?|好|太|也|都|实在)?(没|没有)(什么)?(意思|意义|盼头|希望)|"
        r"活着有什么(意思|意义|用)|活着(真|好|太)?累(了)?，?(不如|还不如)"),
    _zh("zh.want_die", r"(想|要|好想|真想|只想)死(?![你您我他她它们磕扛撑])|(不如|还不如)死了|死了算了|"
        r"一死了之|一了百了|想去死|求死"),
    _zh("zh.suicide", r"自杀|轻生|寻死|自尽", topic=True),
    _zh("zh.self_harm", r"自残|自伤|割腕|伤害自己|弄伤自己|划伤自己|划自己|割自己"),
    _zh("zh.end_life", r"结束(自己的?|我的)?生命|结束一切|了结(自己|生命|此生)|结束这一切"),
    _zh("zh.never_wake", r"不想(再)?醒(来|过来)|再也不要醒|永远(不要)?睡(下去|着)|睡着就不要醒"),
    _zh("zh.jump", r"(想|要|打算|准备)(从[^，。！？]{0,8})?(跳楼|跳河|跳桥|跳江|跳下去)"),
    _zh("zh.pills", r"(攒|存|吞|吃)(了)?[^，。！？]{0,6}(安眠药|药片)"
        r"(?![^，。！？]{0,6}(副作用|怎么吃|几片))"),
    _zh("zh.leave_world", r"离开这个世界|从这个世界消失|消失(掉)?(算了|就好了)|永远消失"),
    _zh("zh.better_off", r"没有我[^，。！？]{0,8}(会)?(更好|轻松|开心)|"
        r"(我|自己)(就|只)?是(个|一个)?(大家的|家里的|别人的)?(累赘|负担)"),
    _zh("zh.note", r"遗书|遗言"),
)


def normalise(text: str) -> str:
    out = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ").lower()
    return re.sub(r"\s+", " ", out).strip()


def _clause_before(text: str, start: int) -> str:
    """The text of the match's clause before the match."""
    cuts = [m.end() for m in _CLAUSE.finditer(text, 0, start)]
    return text[cuts[-1] if cuts else 0:start]


def _clause_of(text: str, start: int, end: int) -> str:
    before = _clause_before(text, start)
    after = _CLAUSE.search(text, end)
    return before + text[start:after.start() if after else len(text)]


def _negated_en(before: str) -> bool:
    words = before.split()[-4:]
    window = " ".join(words)
    if re.search(r"\b(can'?t|couldn'?t|cannot) stop\b", window):
        return False
    return bool(_EN_NEGATORS.search(window))


def _negated_zh(before: str) -> bool:
    return bool(_ZH_NEGATORS.search(before[-4:]))


def _fires(rule: Rule, text: str, zh: bool) -> bool:
    for m in rule.pattern.finditer(text):
        before = _clause_before(text, m.start())
        if _negated_zh(before) if zh else _negated_en(before):
            continue
        if rule.topic:
            clause = _clause_of(text, m.start(), m.end())
            if zh:
                if _ZH_THIRD.search(clause):  # Chinese often drops the subject
                    continue
            elif not _EN_SELF.search(clause) or _EN_THIRD.search(clause):
                continue
        return True
    return False


def detect(text: str, extra: tuple[Rule, ...] = ()) -> str | None:
    """The id of the first rule that fires on ``text``, else None."""
    norm = normalise(text)
    for rule in (*EN_RULES, *extra):
        if _fires(rule, norm, zh=False):
            return rule.id
    if language_of(norm) == "zh":
        for rule in ZH_RULES:
            if _fires(rule, norm, zh=True):
                return rule.id
    return None


class CrisisGuardrail(Guardrail):
    """Fires on self-harm or suicide risk in the user's message (English, Chinese); the answer
    is a fixed safe message with hotlines in the message's language (``message`` overrides it
    per language: ``{en: ..., zh: ...}``). ``patterns``: more English regular expressions."""

    kind = "crisis"
    default_messages = DEFAULT_MESSAGES

    def __init__(self, messages: dict[str, str] | None = None, *,
                 patterns: list[str] | None = None) -> None:
        from framework.errors import ConfigError

        super().__init__(messages)
        extra = []
        for i, pattern in enumerate(patterns or []):
            try:
                extra.append(Rule(f"custom.{i}", re.compile(pattern, re.IGNORECASE)))
            except re.error as exc:
                raise ConfigError(f"crisis guardrail pattern {i} ({pattern!r}) is not a valid "
                                  f"regular expression: {exc}") from exc
        self.extra = tuple(extra)

    def check(self, text: str) -> Trip | None:
        rule = detect(text, self.extra)
        if rule is None:
            return None
        language = language_of(text)
        return Trip(kind=self.kind, rule=rule, language=language,
                    answer=self.answer_for(language))
