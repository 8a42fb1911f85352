"""The companion's conversational copy and the consent text, loaded from `content/`.

`ChatCopy` holds every sentence the flow says that is not part of a module (check-in, menu,
notices, button labels). `ConsentDocument` is the current version of the consent text with
its scripted answers to common questions.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.content import ContentError, read_markdown, read_yaml
from safety.paths import CONTENT_ROOT

__all__ = ["ChatCopy", "ConsentDocument", "ConsentQuestion", "load_consent", "load_copy"]


class ChatCopy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: str
    review_date: date
    texts: dict[str, str]
    buttons: dict[str, str]

    def text(self, key: str, **values: object) -> str:
        return self.texts[key].format(**values) if values else self.texts[key]

    def button(self, key: str) -> str:
        return self.buttons[key]


REQUIRED_TEXTS = {
    "check_in_prompt", "check_in_retry", "check_in_thanks", "check_in_low",
    "menu_prompt", "menu_retry", "module_line", "resume_prompt", "paused", "module_done",
    "empty_message", "too_long", "staff_notice", "declined", "consent_needs_clear_yes",
    "consent_recorded", "ai_consent_prompt", "ai_consent_yes", "ai_consent_no",
    "consent_updated", "safety_cleared", "went_back", "skipped", "cannot_skip", "welcome_back", "turn_failed",
    "homework_prompt", "homework_thanks", "summaries_intro", "no_summaries", "locked_line",
    "questionnaires_due", "crisis_plan_intro", "assigned_line", "assigned_line_due",
    "share_prompt", "shared", "not_shared",
}
REQUIRED_BUTTONS = {
    "agree", "decline", "more_info", "get_help", "next", "pause", "continue", "something_else",
    "yes", "no", "skip", "changed_mind", "my_summaries", "questionnaires",
}


def load_copy(path: Path = CONTENT_ROOT / "chat" / "copy.yaml") -> ChatCopy:
    data = read_yaml(path)
    try:
        copy = ChatCopy.model_validate(data)
    except ValidationError as exc:
        raise ContentError(path, 1, f"does not fit the chat copy schema: {exc}") from exc
    missing = (REQUIRED_TEXTS - copy.texts.keys()) | (REQUIRED_BUTTONS - copy.buttons.keys())
    if missing:
        raise ContentError(path, 1, f"missing keys: {sorted(missing)}")
    return copy


class ConsentQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    keywords: tuple[str, ...]
    answer: str = ""


class ConsentDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    review_date: date
    reviewed_by: str
    text: str
    questions: tuple[ConsentQuestion, ...]
    agree_phrases: tuple[str, ...]
    decline_phrases: tuple[str, ...]

    @property
    def content_id(self) -> str:
        return f"{self.id}@{self.version}"

    def answer_for(self, message: str) -> ConsentQuestion | None:
        words = set(re.findall(r"[a-z']+", message.casefold()))
        for question in self.questions:
            if any(set(k.split()) <= words for k in question.keywords):
                return question
        return None

    def is_agreement(self, message: str) -> bool:
        return _normal(message) in {_normal(p) for p in self.agree_phrases}

    def is_refusal(self, message: str) -> bool:
        return _normal(message) in {_normal(p) for p in self.decline_phrases}


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.casefold().replace("’", "'")).split())


def _version_key(path: Path) -> tuple[int, ...]:
    match = re.search(r"v(\d+)\.(\d+)\.(\d+)", path.name)
    return tuple(int(g) for g in match.groups()) if match else (0, 0, 0)


def load_consent(directory: Path = CONTENT_ROOT / "consent") -> ConsentDocument:
    """Load the newest consent version (`consent-vX.Y.Z.md`)."""
    files = sorted(directory.glob("consent-v*.md"), key=_version_key)
    if not files:
        raise ContentError(directory, 0, "no consent-vX.Y.Z.md file")
    path = files[-1]
    doc = read_markdown(path)
    if "text" not in doc.sections:
        raise ContentError(path, 2, "needs a '## text' section with the consent text")
    questions = []
    for raw in doc.meta.get("questions", []):
        qid = raw.get("id", "")
        if qid not in doc.sections:
            raise ContentError(path, 2, f"question {qid!r} has no '## {qid}' section with its answer")
        questions.append({**raw, "answer": doc.sections[qid]})
    meta = {k: v for k, v in doc.meta.items() if k != "questions"}
    try:
        consent = ConsentDocument.model_validate({**meta, "text": doc.sections["text"], "questions": questions})
    except ValidationError as exc:
        raise ContentError(path, 2, f"front matter does not fit the consent schema: {exc}") from exc
    if f"v{consent.version}" not in path.name:
        raise ContentError(path, 2, f"version {consent.version} does not match the file name")
    return consent
