"""`questionnaire`: PHQ-9 and GAD-7 in chat, one item at a time, scored as published.

Started from the menu when the questionnaires are due (first session, then every
`questionnaire_interval_days`). Answers are stored encrypted with the score and band for the
care team; the patient is not shown a severity label. A positive PHQ-9 item 9 ends the set and
routes to the risk screening questions, whatever the total.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.questionnaires import Questionnaire, parse_difficulty, parse_option, score
from flows.replies import reply, with_replies
from flows.state import ConversationState, Phase, ReplyAction, ReplyKind
from safety.detector import DETECTOR_VERSION
from safety.types import Assessment, Category, Signal, Tier

__all__ = ["QUESTIONNAIRE_ORDER", "questionnaire"]

QUESTIONNAIRE_ORDER = ("phq9", "gad7")


def questionnaire(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Start the due questionnaires, or record one answer and ask the next item."""
    ctx = runtime.context
    progress = dict(state.get("questionnaire", {}))
    if state.get("phase") != Phase.QUESTIONNAIRE:
        queue = [q for q in QUESTIONNAIRE_ORDER if q in ctx.questionnaires]
        progress = {"queue": queue, "answers": {}, "run_id": f"q-{state['turn']['turn_id']}"}
        q = ctx.questionnaires[queue[0]]
        first = reply(q.intro, kind=ReplyKind.NOTICE, content_id=f"{q.id}@{q.version}")
        return {"phase": Phase.QUESTIONNAIRE, "pending": "", "questionnaire": progress,
                "replies": with_replies(state, first, _ask(q, {}))}

    q = ctx.questionnaires[progress["queue"][0]]
    answers: dict[str, int] = dict(progress["answers"])
    text = state["turn"]["text"]
    asking_difficulty = len(answers) >= len(q.items)
    value = parse_difficulty(q, text) if asking_difficulty else parse_option(q, text)
    if value is None:
        return {"replies": with_replies(state, reply(q.retry), _ask(q, answers))}
    key = q.difficulty.id if asking_difficulty and q.difficulty else q.items[len(answers)].id
    answers[key] = value
    result = score(q, answers)
    if result.risk_item_positive or (result.complete and not _wants_difficulty(q, answers)):
        return _finish(state, ctx, q, answers, progress)
    return {"questionnaire": progress | {"answers": answers}, "replies": with_replies(state, _ask(q, answers))}


def _wants_difficulty(q: Questionnaire, answers: dict[str, int]) -> bool:
    """The difficulty item is asked after the last item, if any problem was checked off."""
    if q.difficulty is None or q.difficulty.id in answers:
        return False
    return any(answers.get(item.id, 0) > 0 for item in q.items)


def _ask(q: Questionnaire, answers: dict[str, int]) -> dict[str, Any]:
    if len(answers) >= len(q.items) and q.difficulty is not None:
        labels = [o.label for o in q.difficulty.options]
        return reply(q.difficulty.text, actions=tuple(ReplyAction(label=v, value=v) for v in labels))
    item = q.items[len(answers)]
    text = f"{q.stem}\n\n**{item.number}. {item.text}**"
    return reply(text, actions=tuple(ReplyAction(label=o.label, value=o.label) for o in q.options),
                 content_id=f"{q.id}@{q.version}#{item.id}")


def _finish(
    state: ConversationState, ctx: TurnContext, q: Questionnaire, answers: dict[str, int], progress: dict[str, Any]
) -> dict[str, Any]:
    result = score(q, answers)
    ctx.store.record_answer(
        # One run per questionnaire: PHQ-9 and GAD-7 asked back to back must not share a row.
        patient_id=ctx.patient_id, run_id=f"{progress['run_id']}-{q.id}", module_id=q.id, module_version=q.version,
        step_id="result", completed=result.complete,
        value={"answers": answers, "total": result.total, "band": result.band.id if result.band else None,
               "date": ctx.today.isoformat()},
    )
    queue = list(progress["queue"])[1:]
    done = {"questionnaires_last": ctx.today.isoformat(), "questionnaires_due": False}
    if result.risk_item_positive:
        signal = Signal(source="questionnaire", id=f"{q.id}.item{q.risk_item}", tier=Tier.UNCLEAR,
                        category=Category.PASSIVE_IDEATION, detail="risk item above 0")
        assessment = Assessment.from_signals([signal], version=DETECTOR_VERSION)
        return done | {"phase": Phase.IDLE, "questionnaire": {}, "assessment": assessment.model_dump(mode="json")}
    closing = reply(q.closing)
    if queue:
        following = ctx.questionnaires[queue[0]]
        update = {"questionnaire": progress | {"queue": queue, "answers": {}}}
        intro = reply(following.intro, kind=ReplyKind.NOTICE, content_id=f"{following.id}@{following.version}")
        return update | {"replies": with_replies(state, intro, _ask(following, {}))}
    return done | {"phase": Phase.IDLE, "questionnaire": {}, "replies": with_replies(state, closing)}
