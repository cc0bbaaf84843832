"""The evidence a consent change carries beyond who and when: the notice the user saw, where
and how they gave their answer (`Proof`). Kept for a TCPA or GDPR request and exported with a
contact's history (`engage proof`); the consent rules never judge it."""

from __future__ import annotations

import attrs

__all__ = ["PROOF_LIMITS", "Proof"]


def _kept(value: object, limit: int) -> str | None:
    """A proof field as kept: stripped, None when blank, cut to `limit` characters (a user
    agent is evidence, not input to refuse: a long one is kept in part rather than not at all)."""
    if value is None:
        return None
    text = str(value).strip()[:limit].rstrip()  # a cut may end on a space: kept as read back
    return text or None


def _short(value: object) -> str | None:
    return _kept(value, 64)


def _notice(value: object) -> str | None:
    return _kept(value, 128)


def _agent(value: object) -> str | None:
    return _kept(value, 512)


def _locale(value: object) -> str | None:
    return _kept(value, 35)


@attrs.frozen
class Proof:
    """What a consent change's evidence says beyond who and when (the notice and wording the
    user saw, where and how they gave it): kept for a TCPA or GDPR request, never judged by
    the rules. Each field is optional ("where known") and bounded (`PROOF_LIMITS`)."""

    surface: str | None = attrs.field(default=None, converter=_short)
    notice: str | None = attrs.field(default=None, converter=_notice)  # wording version
    ip: str | None = attrs.field(default=None, converter=_short)
    user_agent: str | None = attrs.field(default=None, converter=_agent)
    locale: str | None = attrs.field(default=None, converter=_locale)
    token_id: str | None = attrs.field(default=None, converter=_short)  # a signed link's


PROOF_LIMITS = {"surface": 64, "notice": 128, "ip": 64, "user_agent": 512, "locale": 35,
                "token_id": 64}  # fmt: skip
