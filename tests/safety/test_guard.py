"""Output guard: LLM text is blocked for diagnosis, medication, method, harm, links, HTML, length."""

from __future__ import annotations

import pytest

from safety.guard import check_output

SAFE = [
    "That sounds like a tough week. What is one small thing you could do tomorrow?",
    "You wrote that everyone hates you. What evidence do you have for and against that thought?",
    "Let's try the 5-4-3-2-1 exercise: notice five things you can see.",
    "It makes sense to feel anxious before a big meeting.",
    "Well done for finishing the thought record today.",
    "Try relaxing your shoulders and shoulder blades as you breathe out.",
    "Jumping to conclusions is a common thinking trap.",
    "Hang in there, you are doing the work.",
]
BLOCKED = [
    ("You have depression.", "diagnosis"),
    ("It sounds like PTSD to me.", "diagnosis"),
    ("You are bipolar, that's why your mood swings.", "diagnosis"),
    ("You might have an anxiety disorder.", "diagnosis"),
    ("Maybe ask about sertraline.", "medication"),
    ("Taking 50mg should help you sleep.", "medication"),
    ("You could stop taking your medication for a while.", "medication"),
    ("An antidepressant might help.", "medication"),
    ("Try a smaller dose.", "medication"),
    ("A lethal dose would be high.", "method_detail"),
    ("Some people use a noose.", "method_detail"),
    ("Jumping off a bridge is final.", "method_detail"),
    ("30 pills is a lot.", "method_detail"),
    ("You should just hurt yourself.", "encourages_harm"),
    ("Honestly they'd be better off without you.", "encourages_harm"),
    ("Thoughts about suicide are common.", "risk_topic"),
    ("Read more at https://example.com", "link"),
    ("See www.example.org", "link"),
    ("[click here](https://x.y)", "link"),
    ("![img](a.png)", "link"),
    ("Visit example.com today", "link"),
    ("<script>alert(1)</script>", "html"),
    ("Hello <b>there</b>", "html"),
]


@pytest.mark.parametrize("text", SAFE)
def test_safe_text_passes(text: str) -> None:
    verdict = check_output(text)
    assert verdict.ok, verdict.reasons
    assert verdict.reasons == ()


@pytest.mark.parametrize(("text", "reason"), BLOCKED)
def test_unsafe_text_is_blocked(text: str, reason: str) -> None:
    verdict = check_output(text)
    assert not verdict.ok
    assert reason in verdict.reasons


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty(text: str) -> None:
    assert check_output(text).reasons == ("empty",)


def test_too_long() -> None:
    assert "too_long" in check_output("ok " * 300).reasons
    assert check_output("ok " * 10, max_chars=20).reasons == ("too_long",)
    assert check_output("short", max_chars=5).ok


def test_obfuscated_method_words_are_caught() -> None:
    assert "method_detail" in check_output("a n00se").reasons


def test_guard_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr("safety.guard.normalise", broken)
    verdict = check_output("perfectly fine text")
    assert not verdict.ok and verdict.reasons == ("guard_error",)


@pytest.mark.parametrize(
    "text",
    [
        "Cheer up! What happened at work?",
        "It's not a big deal really. What was the situation?",
        "Don't worry about it. Which feeling was strongest?",
        "Just think positive and write what happened.",
        "You're overreacting a little. What went through your mind?",
        "Look on the bright side: what facts support the thought?",
    ],
)
def test_replies_that_brush_aside_feelings_are_blocked(text: str) -> None:
    verdict = check_output(text)
    assert not verdict.ok and "dismissive" in verdict.reasons


@pytest.mark.parametrize(
    "text",
    [
        "That sounds hard. What was happening when your mood dropped?",
        "It makes sense to feel worried about this. What went through your mind?",
    ],
)
def test_warm_wording_passes(text: str) -> None:
    assert check_output(text).ok
