"""Output guard: checks any LLM-written text before a patient sees it.

The LLM only personalises scripted steps, so anything outside that brief is blocked and the
caller shows the scripted text instead: diagnoses, medication advice, suicide or self-harm
method detail, encouragement of harm, talk of suicide or self-harm at all (crisis text is never
LLM-written), replies that brush aside what the patient said ("cheer up", "it's not a big
deal"), links, images, raw HTML, and text that is empty or too long for a phone. The
guard fails closed: an error while checking is a failed check (`guard_error`).
"""

from __future__ import annotations

import logging
import re

from pydantic import BaseModel, ConfigDict

from safety.normalise import normalise

__all__ = ["GuardVerdict", "check_output"]

_log = logging.getLogger(__name__)

_CONDITIONS = (
    r"(?:depression|depressive disorder|major depressive|clinical depression|an anxiety disorder|"
    r"generali[sz]ed anxiety|gad|panic disorder|social anxiety disorder|bipolar(?: disorder)?|"
    r"ptsd|c ?ptsd|post traumatic stress|ocd|obsessive compulsive|adhd|add|bpd|borderline|"
    r"(?:a )?personality disorder|schizophrenia|schizoaffective|psychosis|an eating disorder|"
    r"anorexia|bulimia|autism|insomnia disorder|dysthymia|a mental illness|a disorder)"
)
_CONDITION_ADJ = (
    r"(?:bipolar|schizophrenic|psychotic|autistic|anorexic|bulimic|borderline|manic|"
    r"clinically depressed|mentally ill|narcissistic|sociopathic|a narcissist|a sociopath|"
    r"a psychopath)"
)
_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("diagnosis", re.compile(
        rf"\byou(?:'ve| have| might have| may have| could have| probably have| likely have|"
        rf" clearly have| definitely have| seem to have| are suffering from| suffer from|"
        rf"'re suffering from| have got)(?: got)? {_CONDITIONS}\b"
        rf"|\byou(?:'re| are| might be| may be| seem| sound)(?: to be)? {_CONDITION_ADJ}\b"
        rf"|\b(?:sounds|seems|looks) like (?:you have |you've got |it'?s |a case of )?{_CONDITIONS}\b"
        rf"|\bdiagnos(?:e|es|ed|is|ing)\b|\bsymptoms of {_CONDITIONS}\b|\bclassic sign of\b"
    )),
    ("medication", re.compile(
        r"\b(?:sertraline|fluoxetine|citalopram|escitalopram|paroxetine|venlafaxine|duloxetine|"
        r"mirtazapine|amitriptyline|nortriptyline|bupropion|trazodone|vortioxetine|lithium|"
        r"quetiapine|olanzapine|risperidone|aripiprazole|lamotrigine|valproate|diazepam|lorazepam|"
        r"alprazolam|clonazepam|zopiclone|zolpidem|melatonin|propranolol|pregabalin|gabapentin|"
        r"paracetamol|acetaminophen|ibuprofen|aspirin|codeine|tramadol|oxycodone|prozac|zoloft|"
        r"lexapro|celexa|paxil|effexor|cymbalta|wellbutrin|xanax|valium|ativan|klonopin|ambien|"
        r"seroquel|abilify|tylenol|advil|ritalin|adderall|methylphenidate|ketamine|cbd)\b"
        r"|\b\d+(?:\.\d+)? ?(?:mg|mcg|µg|ml|milligrams?)\b|\bmg\b|\bdos(?:e|es|age|ing)\b"
        r"|\b(?:stop|start|stopping|starting|quit|quitting|skip|skipping|increase|increasing|"
        r"decrease|decreasing|reduce|reducing|double|doubling|come off|coming off|taper|tapering|"
        r"switch|switching) (?:taking )?(?:your |the |any |those |these )?(?:medication|meds|"
        r"medicine|tablets|pills|prescription|antidepressants?)\b"
        r"|\bantidepressants?\b|\bssris?\b|\bsnris?\b|\bbenzo(?:diazepine)?s?\b|\bsleeping pills?\b"
        r"|\bantipsychotics?\b|\bmood stabili[sz]ers?\b"
    )),
    ("method_detail", re.compile(
        r"\boverdos|\bnoose\b|\bligature|\bhang(?:ing|ed)? (?:yourself|myself|themselves|himself|herself)\b"
        r"|\b(?:cut|cutting|slit|slitting|slash|slashing) (?:your|my|their|his|her) (?:wrists?|arms?|"
        r"skin|throat|thighs?)|\brazor|\bbleach\b|\bpoison(?! ivy)|\bcarbon monoxide\b|"
        r"\bsuffocat|\basphyxi|\bfirearms?\b|\bgun\b|\bshoot (?:yourself|myself)\b"
        r"|\bjump(?:ing)? (?:off|from|in front of)\b|\btrain tracks\b|\b(?:lethal|fatal|deadly) "
        r"(?:dose|amount|quantity)|\bhow many (?:pills|tablets)\b|\b\d+ (?:pills|tablets)\b|"
        r"\bpainless\b|\bbleed(?:ing)? out\b|\bdrown (?:yourself|myself)\b|\bstarv(?:e|ing) (?:yourself|myself)\b"
    )),
    ("encourages_harm", re.compile(
        r"\b(?:you should|go ahead and|why not|you deserve to|you could|it'?s (?:okay|ok|fine|alright) to|"
        r"feel free to|you might as well|just) (?:\w+ )?(?:kill|hurt|harm|cut|starve|punish|burn|end|"
        r"give up on) (?:yourself|your life|your own life|living|them|him|her|someone)\b"
        r"|\bbetter off (?:dead|without you|gone)\b|\b(?:no one|nobody) (?:would|will) miss you\b"
        r"|\byou deserve (?:to suffer|pain|to die|it)\b|\bkill yourself\b|\bkys\b"
        r"|\b(?:do it|go through with it)(?: tonight| now| already)\b"
    )),
    ("risk_topic", re.compile(
        r"\bsuicid|\bself harm|\bkill(?:ing)? (?:yourself|myself|themselves)\b|\bend(?:ing)? (?:your|my) life\b"
        r"|\b(?:hurt|harm|hurting|harming|injure|injuring) (?:yourself|myself)\b|\bwant(?:ing)? to die\b"
    )),
    ("link", re.compile(
        r"https?://|\bwww\.|\]\(|!\[|\b[a-z0-9-]+\.(?:com|org|net|io|co|uk|info|ly|app|me|gov|edu)\b"
        r"|\bmailto:"
    )),
    ("html", re.compile(r"<\s*/?\s*[a-z!][^>]*>|&lt;|&#\d+;")),
    # brushing feelings aside: a reply must never wave away what the patient just disclosed
    ("dismissive", re.compile(
        r"\b(?:cheer up|snap out of it|get over it|(?:it'?s|that'?s) not (?:a|that) big (?:of a )?deal"
        r"|don'?t (?:worry|be so) (?:about it|sad|upset|dramatic|negative)|it could be worse"
        r"|look on the bright side|just (?:think positive|be positive|relax|calm down|stop (?:worrying|thinking about it))"
        r"|you'?re (?:overreacting|being dramatic|too sensitive)|everyone feels (?:like )?that)\b"
    )),
)


class GuardVerdict(BaseModel):
    """Whether LLM-written text may be shown, and why not."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    reasons: tuple[str, ...] = ()


def _reasons(text: str, max_chars: int) -> list[str]:
    if not text or not text.strip():
        return ["empty"]
    reasons = ["too_long"] if len(text) > max_chars else []
    lowered = text.casefold()
    folded = normalise(text)
    for reason, pattern in _CHECKS:
        if pattern.search(lowered) or pattern.search(folded):
            reasons.append(reason)
    return reasons


def check_output(text: str, *, max_chars: int = 700) -> GuardVerdict:
    """Check LLM-written text before a patient sees it.

    Args:
        text: The generated text.
        max_chars: Longest text allowed (phone-sized).

    Returns:
        `ok=True` with no reasons, or `ok=False` with reason ids among "empty", "too_long",
        "diagnosis", "medication", "method_detail", "encourages_harm", "risk_topic", "link",
        "html", "dismissive", and "guard_error" if the check itself failed (fails closed).
    """
    try:
        reasons = _reasons(text, max_chars)
    except Exception as exc:  # noqa: BLE001 - a guard that cannot check must block
        _log.error("output guard failed closed: %s", type(exc).__name__)
        reasons = ["guard_error"]
    return GuardVerdict(ok=not reasons, reasons=tuple(reasons))
