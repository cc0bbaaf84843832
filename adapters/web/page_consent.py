"""What a contact's page reads and changes, as plain blocking functions over the application
(the routes run them in worker threads).

Each change is the contact's own act, made by `user_choices` (source `preference_center`, the
link's token id and the request's evidence in its `Proof`), so an opt-out here locks the
channel or group against every operator source, as a STOP does. What the page did not show
is never changed: the groups a form may name are those its page showed (posted back as hidden
fields, so a group that appeared meanwhile is not taken for one left unchecked). A page shows
at most `MAX_GROUPS` groups, the first the address got (the directory's order, which only ever
grows at its end, so the page and its Save agree on them) and the link's own: the form bounds
(`page_forms`) are made to fit that many, so a page's own Save is never refused for its size.

Source ids say what makes two requests the same act:
- a preferences submission: the token id and a random part, one act per submission, recording
  every choice the form made (even one that holds: whether the contact's answer holds in the
  end must not depend on which operator updates arrived first; one that changes nothing
  publishes nothing);
- a one-click unsubscribe, or a confirmation: the token id, the act, and the time of the state
  it replaces. A mail client posting again, even at the same moment, finds the state it
  replaced either gone (the contact's own opt-out holds: nothing to record) or the same (the
  same id: a duplicate, recorded once, published never); while a contact who resubscribed on
  their preferences page and then clicks the same unsubscribe link again is heard again.
- a confirmation is recorded while a PENDING holds, as an update that subscribes only onto a
  PENDING where it replays (`user_confirmation`), so an opt-out or operator change effective
  before it decides it the same whichever arrived first.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

import attrs

from adapters.web.page_forms import MAX_GROUPS, Form, PageError
from engage_core import EngageApplication
from engage_core.channels import Channel
from engage_core.consent.choices import CHANNEL, user_choices, user_confirmation
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ConsentEvent, changed_anything
from engage_core.consent.evidence import Proof
from engage_core.consent.rules import SubscriptionState, SubscriptionStatus
from engage_core.links import LinkClaims

__all__ = [
    "PREFERENCE_FIELDS", "ContactView", "confirm", "confirm_state", "contact_view", "save_choices",
    "unsubscribe", "wanted_of",
]  # fmt: skip

PREFERENCE_FIELDS = ("channel", "group", "subscribed")  # the preference form's field names
_SUBSCRIBED, _UNSUBSCRIBED = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
_STATED = frozenset({_SUBSCRIBED, _UNSUBSCRIBED})


@attrs.frozen
class ContactView:
    """What a page shows of a contact: its channel as it reads now (a PENDING past its window
    reads as none, as `app.subscription` answers), and, for an email address, its groups (the
    link's own group among them, with no state yet if it has none); `recorded` is the
    channel's state as recorded, a lapsed PENDING still a PENDING with its time (what a
    one-click or a confirmation replaces, so its source id names that state, `_stamp`).
    `hidden` counts the address's groups past `MAX_GROUPS`, which the page does not show."""

    contact: ContactKey
    channel: SubscriptionState
    groups: Mapping[str, SubscriptionState]
    recorded: SubscriptionState
    hidden: int = 0


def contact_view(app: EngageApplication, claims: LinkClaims) -> ContactView:
    """The contact a link names, as its page shows it now: its first `MAX_GROUPS` groups,
    the link's own always among them."""
    contact = claims.contact
    every: tuple[str, ...] = ()
    if contact.channel is Channel.EMAIL:
        every = app.groups_of(contact)
    names = list(every[:MAX_GROUPS])
    if claims.group is not None and claims.group not in names:
        names = [*names[: MAX_GROUPS - 1], claims.group]
    answer = app.subscription(contact, groups=names)  # a lapsed PENDING reads as none
    subscription = app.channel_subscription(contact)
    recorded = subscription.current if subscription is not None else SubscriptionState()
    hidden = len(set(every) - set(names))
    return ContactView(contact, answer.state, dict(answer.groups), recorded, hidden)


def wanted_of(form: Form, view: ContactView) -> dict[str | None, SubscriptionStatus]:
    """The contact's choices as the preference form posts them: the channel's radio button,
    and for each group the page showed (`group`, hidden), checked (`subscribed`) or not. An
    unchecked group is an opt-out only where it had a status the page showed as unchecked
    (unsubscribed, or subscribed and now unchecked), never where nothing was stated."""
    wanted: dict[str | None, SubscriptionStatus] = {}
    channel = form.one("channel")
    if channel is not None:
        if channel not in {_SUBSCRIBED.value, _UNSUBSCRIBED.value}:
            raise PageError(400, "This form could not be read",
                            "The channel's choice is SUBSCRIBED or UNSUBSCRIBED.")  # fmt: skip
        wanted[CHANNEL] = SubscriptionStatus(channel)
    shown, checked = form.all("group"), set(form.all("subscribed"))
    strangers = (set(shown) - set(view.groups)) | (checked - set(shown))
    if strangers:
        raise PageError(400, "This form could not be read",
                        "The form names a topic this page does not show.")  # fmt: skip
    for name in shown:
        if name in checked:
            wanted[name] = _SUBSCRIBED
        elif view.groups[name].status in _STATED:
            wanted[name] = _UNSUBSCRIBED
    return wanted


def save_choices(
    app: EngageApplication, claims: LinkClaims, form: Form, proof: Proof, now: datetime
) -> list[ConsentEvent]:
    """The preference form's choices applied; the events that answer them (none when the
    form asked for what already holds)."""
    view = contact_view(app, claims)
    wanted = wanted_of(form, view)
    source_id = f"{claims.token_id}:{secrets.token_urlsafe(9)}"
    return _apply(app, view, wanted, source_id, proof, now)


def unsubscribe(
    app: EngageApplication, claims: LinkClaims, proof: Proof, now: datetime
) -> list[ConsentEvent]:
    """RFC 8058's one-click: the link's group unsubscribed if it names one, else the channel;
    nothing recorded when the contact's own opt-out already holds (a mail client posting again
    adds nothing to the log)."""
    view = contact_view(app, claims)
    target = claims.group
    replaced = view.recorded if target is CHANNEL else view.groups[target]
    if replaced.status is _UNSUBSCRIBED and replaced.locked_by_user:
        return []
    source_id = f"{claims.token_id}:one-click:{_stamp(replaced)}"
    return _apply(app, view, {target: _UNSUBSCRIBED}, source_id, proof, now)


def confirm_state(view: ContactView) -> str:
    """What a confirmation link finds: `pending` (to confirm), `confirmed` (subscribed
    already) or `nothing` (the request lapsed, or the contact answered otherwise since)."""
    status = view.channel.status
    if status is SubscriptionStatus.PENDING:
        return "pending"
    return "confirmed" if status is _SUBSCRIBED else "nothing"


def confirm(app: EngageApplication, claims: LinkClaims, proof: Proof, now: datetime) -> str:
    """Double opt-in: a PENDING channel made SUBSCRIBED as the contact's own act. Answers what
    the link found (`confirm_state`), `confirmed` once it confirmed it; only a PENDING is ever
    changed, so a confirmation link cannot undo an opt-out made since it was sent."""
    view = contact_view(app, claims)
    state = confirm_state(view)
    if state != "pending":
        return state
    source_id = f"{claims.token_id}:confirm:{_stamp(view.recorded)}"
    change = user_confirmation(view.contact, source_id=source_id, at=now, proof=proof)
    events = app.change_consent([change])
    return "confirmed" if changed_anything(events) else confirm_state(contact_view(app, claims))


def _apply(
    app: EngageApplication, view: ContactView, wanted: Mapping[str | None, SubscriptionStatus],
    source_id: str, proof: Proof, now: datetime,
) -> list[ConsentEvent]:  # fmt: skip
    changes = user_choices(view.contact, wanted, source_id=source_id, at=now, proof=proof)
    return app.change_consent(changes) if changes else []


def _stamp(state: SubscriptionState) -> str:
    """The recorded state's time in microseconds since the epoch (0 for none): what makes two
    requests against the same state one act."""
    at = state.effective_at
    return "0" if at is None else str(round(at.timestamp() * 1_000_000))
