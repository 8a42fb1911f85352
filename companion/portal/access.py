"""Who may use which portal route: one table, role by route, and the check that enforces it.

`ACCESS` maps every portal route (method and path template, exactly as the router declares
it) to a `Rule`: the roles allowed and, for therapists, whether the patient (or invitation)
in the path must be one of their own. `authorise` runs before every portal handler, finds
the route's row and refuses what the row does not allow. A route without a row is refused
(and a test fails), so forgetting to decide is never the same as allowing.

Denials: a visitor who is not signed in is sent to the sign-in page (GET) or gets 403
(POST); a signed-in user without the right role, or a therapist asking about someone else's
patient, gets 403. A deactivated account's session stops working at once (it is treated as
signed out). Admins manage accounts and read the audit log; they do not read patient data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from companion.models import Role

__all__ = ["ACCESS", "PUBLIC", "Rule", "Scope", "STAFF"]


class Scope(StrEnum):
    ANY = "any"  # no ownership check
    OWN_PATIENT = "own_patient"  # therapists: {patient_id} is on their caseload
    OWN_INVITE = "own_invite"  # therapists: {invite_id} is an invitation they made


@dataclass(frozen=True)
class Rule:
    """The roles that may use a route; `public` routes need no sign-in at all."""

    roles: frozenset[Role] = frozenset()
    scope: Scope = Scope.ANY
    public: bool = False

    def allows(self, role: Role | None) -> bool:
        return self.public or (role is not None and role in self.roles)


PUBLIC = Rule(public=True)
STAFF = Rule(frozenset({Role.THERAPIST, Role.REVIEWER, Role.ADMIN}))
_THERAPIST = Rule(frozenset({Role.THERAPIST}))
_OWN_PATIENT = Rule(frozenset({Role.THERAPIST}), Scope.OWN_PATIENT)
_OWN_INVITE = Rule(frozenset({Role.THERAPIST}), Scope.OWN_INVITE)
_REVIEWER = Rule(frozenset({Role.REVIEWER}))
_ADMIN = Rule(frozenset({Role.ADMIN}))

#: (method, path template) -> rule. Every portal route has exactly one row.
ACCESS: dict[tuple[str, str], Rule] = {
    # everyone ----------------------------------------------------------------------------
    ("GET", "/portal/"): PUBLIC,  # sends each role to its start page (or to sign-in)
    ("GET", "/portal/static"): PUBLIC,  # the portal's own stylesheet and icons
    ("GET", "/portal/login"): PUBLIC,
    ("POST", "/portal/login"): PUBLIC,
    ("GET", "/portal/login/second-factor"): PUBLIC,  # needs a session waiting for its code
    ("POST", "/portal/login/second-factor"): PUBLIC,
    ("POST", "/portal/logout"): PUBLIC,  # ending a session is harmless; CSRF still applies
    ("GET", "/portal/join/{code}"): PUBLIC,  # a patient's invitation: choose a password
    ("POST", "/portal/join/{code}"): PUBLIC,
    # staff: their own account --------------------------------------------------------------
    ("GET", "/portal/account"): STAFF,
    ("POST", "/portal/account/password"): STAFF,
    ("POST", "/portal/account/second-factor"): STAFF,  # confirm a code to switch TOTP on
    ("POST", "/portal/account/second-factor/disable"): STAFF,
    ("POST", "/portal/account/notifications"): _THERAPIST,  # where risk alerts about their patients go
    # therapists ----------------------------------------------------------------------------
    ("GET", "/portal/patients"): _THERAPIST,  # caseload, urgent risk events first
    ("GET", "/portal/patients/{patient_id}"): _OWN_PATIENT,  # progress, charts, shared results
    ("POST", "/portal/patients/{patient_id}/assignments"): _OWN_PATIENT,
    ("POST", "/portal/patients/{patient_id}/assignments/{module_id}/remove"): _OWN_PATIENT,
    ("POST", "/portal/patients/{patient_id}/session"): _OWN_PATIENT,  # "session held today"
    ("GET", "/portal/invites"): _THERAPIST,
    ("POST", "/portal/invites"): _THERAPIST,
    ("POST", "/portal/invites/{invite_id}/revoke"): _OWN_INVITE,
    # safety reviewers ------------------------------------------------------------------------
    ("GET", "/portal/escalations"): _REVIEWER,  # the queue
    ("GET", "/portal/escalations/{escalation_id}"): _REVIEWER,  # decrypted on view, audited
    ("POST", "/portal/escalations/{escalation_id}/acknowledge"): _REVIEWER,
    ("POST", "/portal/escalations/{escalation_id}/contact"): _REVIEWER,
    ("POST", "/portal/escalations/{escalation_id}/resolve"): _REVIEWER,
    ("POST", "/portal/escalations/{escalation_id}/clear-safety-mode"): _REVIEWER,
    ("POST", "/portal/escalations/{escalation_id}/label"): _REVIEWER,
    ("GET", "/portal/labels.jsonl"): _REVIEWER,  # regression cases for `companion safety screen`
    # admins ----------------------------------------------------------------------------------
    ("GET", "/portal/audit"): _ADMIN,
    ("GET", "/portal/users"): _ADMIN,
    ("POST", "/portal/users"): _ADMIN,
    ("POST", "/portal/users/{user_id}/deactivate"): _ADMIN,
    ("POST", "/portal/users/{user_id}/activate"): _ADMIN,
}
