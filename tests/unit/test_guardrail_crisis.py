"""The crisis guardrail's detection: 20 risk phrasings and 20 harmless ones in each language."""

from __future__ import annotations

import pytest

from framework.agents.guardrails import GUARDRAILS, language_of
from framework.agents.guardrails.crisis import DEFAULT_MESSAGES, CrisisGuardrail, detect
from framework.errors import ConfigError

RISK_EN = [
    "I want to kill myself",
    "I don't want to wake up anymore",
    "I've been thinking about suicide a lot lately",
    "Honestly I feel suicidal tonight",
    "I want to end my life",
    "Everyone would be better off without me",
    "I don't want to live anymore",
    "I have nothing left to live for",
    "I'm going to take all my pills tonight",
    "I keep cutting myself when I'm alone",
    "I just want to die",
    "I wish I was dead",
    "I want to end it all",
    "I can't go on living like this",
    "I'm planning to jump off the bridge near my flat",
    "I already wrote a suicide note",
    "I've been hurting myself again",
    "Sometimes I want to sleep and never wake up",
    "I'm not sure I want to be alive anymore",
    "I think about ending my life every day",
]

HARMLESS_EN = [
    "This traffic is killing me",
    "I could kill for a coffee right now",
    "My feet are killing me after that hike",
    "The comedian absolutely killed it last night",
    "I'm dying to see the new Spider-Man movie",
    "I nearly died laughing at that video",
    "How do I kill a Python process that hangs?",
    "I need to kill some time before my flight",
    "Suicide Squad was a disappointing movie",
    "Hemingway killed himself in 1961; which books did he write?",
    "I'm writing an essay about suicide prevention programs in schools",
    "I don't want to live in this city anymore, rent is too high",
    "I don't want to wake up early tomorrow",
    "I would never hurt myself, I'm just exhausted after work",
    "I'm not suicidal, just stressed about my exams",
    "My sister said she wants to end everything at 5 and go home",
    "We jumped off the pier into the lake last summer",
    "I cut myself a slice of cake and felt better",
    "I want to end my subscription to this app",
    "The battery died and I want to die laughing at my luck",
]

RISK_ZH = [
    "我不想活了",
    "活着没意思",
    "我想结束一切",
    "我真的好想死",
    "我想自杀",
    "最近我总想着自杀",
    "我活不下去了",
    "我不想再醒来了",
    "我想从楼上跳下去",
    "我一直在攒安眠药",
    "我又开始自残了",
    "我想伤害自己",
    "没有我大家会过得更好",
    "我想结束自己的生命",
    "太累了，死了算了",
    "我想一了百了",
    "我已经写好遗书了",
    "活着有什么意义",
    "我想离开这个世界",
    "我觉得自己就是个累赘，有轻生的念头",
]

HARMLESS_ZH = [
    "笑死我了",
    "今天累死了",
    "好久不见，想死你了",
    "有什么好用的杀毒软件推荐吗",
    "这个游戏太杀时间了",
    "气死我了，快递又晚了",
    "这道题难死了",
    "饿死了，去吃饭吧",
    "我想结束这个项目，换个方向",
    "电影《自杀小队》好看吗",
    "这部小说的主角最后跳楼了，太悲伤了",
    "我想跳槽去一家新公司",
    "我不想活在别人的期待里",
    "我想死磕这个 bug 到底",
    "医生开的安眠药有什么副作用",
    "我想离开这个城市去南方生活",
    "周末在家真没意思",
    "我不会自杀的，放心，只是心情不好",
    "这首歌写的是一个人自杀前的心情",
    "热死了，空调坏了",
]


@pytest.mark.parametrize("text", RISK_EN + RISK_ZH)
def test_risk_is_caught(text: str) -> None:
    assert detect(text) is not None, text


@pytest.mark.parametrize("text", HARMLESS_EN + HARMLESS_ZH)
def test_no_false_alarm(text: str) -> None:
    assert detect(text) is None, (text, detect(text))


def test_twenty_cases_each() -> None:
    for cases in (RISK_EN, HARMLESS_EN, RISK_ZH, HARMLESS_ZH):
        assert len(cases) == 20 and len(set(cases)) == 20


def test_answer_is_in_the_users_language_with_hotlines() -> None:
    guard = GUARDRAILS.get("crisis")()
    zh = guard.check("我不想活了")
    en = guard.check("I want to end my life")
    assert zh is not None and en is not None
    assert zh.language == "zh" and "400-161-9995" in zh.answer and "010-82951332" in zh.answer
    assert "不是诊断" in zh.answer
    assert en.language == "en" and "988" in en.answer and "not a diagnosis" in en.answer
    assert en.kind == "crisis" and en.rule.startswith("en.")
    assert guard.check("What time is it?") is None


def test_messages_override_per_language() -> None:
    guard = CrisisGuardrail({"en": "Call 999."})
    assert guard.check("I want to kill myself").answer == "Call 999."  # type: ignore[union-attr]
    assert guard.check("我想自杀").answer == DEFAULT_MESSAGES["zh"]  # type: ignore[union-attr]


def test_extra_patterns_and_bad_settings() -> None:
    guard = CrisisGuardrail(patterns=[r"\bunalive myself\b"])
    assert guard.check("I might unalive myself") is not None
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        CrisisGuardrail(patterns=["(unclosed"])
    with pytest.raises(TypeError):
        CrisisGuardrail(colour="red")  # type: ignore[call-arg]


def test_language_of() -> None:
    assert language_of("hello") == "en" and language_of("你好 hello") == "zh"
