"""The LLM personaliser: an OpenAI-compatible chat model rewords a step, inside strict limits.

Before anything leaves the process the step text and the patient's words are masked of
identifiers (numbered tags, restored locally afterwards). The model is asked for structured
output (`Rephrasing`), and its text must keep the step's question, stay short and pass the
output guard (no diagnosis, medication advice, method detail, links or HTML). Every failure,
whatever its kind, gives the scripted text back with `source=FALLBACK` and a reason code that
never contains patient text; `personalise` never raises.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Literal

from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from flows.personalise import StepRequest, StepWording, WordingSource
from flows.pii import TAG_PATTERN, IdentifierMasker
from flows.text import quote_patient_text
from safety.guard import GuardVerdict, check_output

__all__ = ["PROMPT_PATH", "LLMPersonaliser", "Rephrasing", "failure_reason", "load_prompt"]

logger = logging.getLogger(__name__)

PROMPT_PATH = Path(__file__).parent / "prompts" / "personalise.md"
StructuredOutputMethod = Literal["json_schema", "function_calling", "json_mode"]

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SECTION = re.compile(r"^# (system|user)[ \t]*$", re.MULTILINE)
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()<>#+!|~])")
_MAX_WORDS_CHARS = 1000  # each earlier answer sent to the model is cut to this length


class Rephrasing(BaseModel):
    """The structured output asked of the model: the reworded step, nothing else."""

    text: str = Field(description="The step reworded for this person, in plain language.")


class _Rejected(Exception):
    """The model answered, but its text cannot be shown; `reason` is a code, not patient text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def load_prompt(path: Path = PROMPT_PATH) -> str:
    """Return the prompt template text (see the comment at the top of the file for its syntax)."""
    return path.read_text(encoding="utf-8")


def _split_prompt(template: str) -> tuple[str, str]:
    """Return the system and user templates of a prompt file, checking its placeholders."""
    parts = _SECTION.split(_COMMENT.sub("", template))
    sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2]), strict=True))
    if set(sections) != {"system", "user"}:
        raise ValueError(
            "The personalisation prompt needs a '# system' and a '# user' section; "
            f"fix {PROMPT_PATH.name} or the prompt passed to LLMPersonaliser"
        )
    try:
        sections["system"].format(module_title="", step_kind="", may="", must_not="", max_words=0)
        sections["user"].format(data="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"The personalisation prompt has an unknown or malformed placeholder ({exc!r}); "
            "use {module_title}, {step_kind}, {may}, {must_not}, {max_words} and {data}, "
            "and double literal braces"
        ) from exc
    return sections["system"], sections["user"]


def failure_reason(exc: BaseException) -> str:
    """Name the kind of failure for logs and `StepWording.reason`, never its message."""
    if isinstance(exc, _Rejected):
        return exc.reason
    if isinstance(exc, ModelTimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, ModelConnectionError | ConnectionError):
        return "connection"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return f"http_{status}"
    for kind, reason in (
        (ModelRateLimitError, "rate_limited"),
        (ModelAuthenticationError, "authentication"),
        (ModelRefusalError, "refused"),
        (ModelAPIError, "server_error"),
        (ModelError, "model_error"),
        (ValidationError, "invalid_output"),
        (ValueError, "invalid_output"),  # includes OutputParserException and JSON errors
    ):
        if isinstance(exc, kind):
            return reason
    return f"error:{type(exc).__name__}"


def _bullets(items: tuple[str, ...]) -> str:
    return "\n".join(f"- {item}" for item in items) or "- (nothing declared)"


def _unescape_markdown(text: str) -> str:
    """Undo the escaping the runner applies to patient words, so identifiers can be found."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text)


class LLMPersonaliser:
    """Reword a step with a chat model, falling back to the scripted text on any failure."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        prompt: str | None = None,
        guard: Callable[[str], GuardVerdict] = check_output,
        max_chars: int = 700,
        max_words: int = 120,
        structured_output_method: StructuredOutputMethod | None = None,
    ) -> None:
        """Prepare the structured-output runnable; a malformed `prompt` raises ValueError here.

        Args:
            model: Any LangChain chat model supporting `with_structured_output`.
            prompt: Prompt template text; defaults to `flows/prompts/personalise.md`.
            guard: Output check; the text is shown only when it returns `ok`.
            max_chars: Longest text shown; longer text falls back ("too_long").
            max_words: Word budget the prompt asks the model to keep to.
            structured_output_method: Passed as `method=` to `with_structured_output`; None
                keeps the model's default.
        """
        self._system, self._user = _split_prompt(load_prompt() if prompt is None else prompt)
        self._guard = partial(check_output, max_chars=max_chars) if guard is check_output else guard
        self._max_chars = max_chars
        self._max_words = max_words
        kwargs: dict[str, Any] = {}
        if structured_output_method is not None:
            kwargs["method"] = structured_output_method
        self._structured = model.with_structured_output(Rephrasing, **kwargs)

    def personalise(self, request: StepRequest) -> StepWording:
        """Return the model's wording of the step, or the scripted text with the failure reason."""
        try:
            text = self._reword(request)
        except Exception as exc:  # noqa: BLE001 - any failure means: show the scripted text
            reason = failure_reason(exc)
            logger.warning(
                "personalisation fell back to the scripted text",
                extra={
                    "module_id": request.module_id,
                    "step_id": request.step_id,
                    "reason": reason,
                },
            )
            return StepWording(
                text=request.scripted_text, source=WordingSource.FALLBACK, reason=reason
            )
        return StepWording(text=text, source=WordingSource.LLM)

    def messages(self, request: StepRequest, masker: IdentifierMasker) -> list[BaseMessage]:
        """Build the masked messages sent to the model for `request`."""
        texts = {key: value[:_MAX_WORDS_CHARS] for key, value in request.patient_words.items()}
        step_text = _unescape_markdown(request.scripted_text)
        brief = request.brief[:_MAX_WORDS_CHARS]
        for text in (*texts.values(), step_text, brief):  # learn every signalled name before masking
            masker.mask(text)
        words = {key: masker.mask(value) for key, value in texts.items()}
        data = json.dumps(
            {"step_text": masker.mask(step_text), "patient_words": words, "therapist_brief": masker.mask(brief)},
            ensure_ascii=False,
            indent=1,
        )
        data = data.replace("<", "\\u003c").replace(">", "\\u003e")  # no way to close <data>
        system = self._system.format(
            module_title=request.module_title,
            step_kind=request.step_kind,
            may=_bullets(request.limits.may),
            must_not=_bullets(request.limits.must_not),
            max_words=self._max_words,
        )
        return [SystemMessage(content=system), HumanMessage(content=self._user.format(data=data))]

    def _reword(self, request: StepRequest) -> str:
        masker = IdentifierMasker(numbered=True)
        result = self._structured.invoke(self.messages(request, masker))
        text = _text_of(result).strip()
        if not text:
            raise _Rejected("empty")
        if "?" in request.scripted_text and "?" not in text:
            raise _Rejected("question_dropped")
        text = masker.restore(text, quote=quote_patient_text)
        if TAG_PATTERN.search(text):
            raise _Rejected("unknown_placeholder")
        if len(text) > self._max_chars:
            raise _Rejected("too_long")
        verdict = self._guard(text)
        if not verdict.ok:
            raise _Rejected("guard:" + ",".join(verdict.reasons or ("rejected",)))
        return text


def _text_of(result: Any) -> str:
    """Return the `text` field of a structured result (a model instance or a dict)."""
    if isinstance(result, Rephrasing):
        return result.text
    if isinstance(result, Mapping) and isinstance(result.get("text"), str):
        return result["text"]
    raise _Rejected("invalid_output")
