"""Requested consent changes: one update of a channel subscription or of a group subscription."""

from __future__ import annotations

from functools import cached_property
from uuid import UUID

import attrs

from engage_core.consent.contacts import ContactKey, group_subscription_id, normalise_group_name
from engage_core.consent.rules import Update


@attrs.frozen
class ChannelChange:
    """An update of a contact vector's channel subscription."""

    contact: ContactKey
    update: Update


@attrs.frozen
class GroupChange:
    """An update of an email address's subscription to a group (the name normalised)."""

    email: ContactKey
    group: str = attrs.field(converter=normalise_group_name)
    update: Update = attrs.field(kw_only=True)

    @cached_property
    def subscription_id(self) -> UUID:
        return group_subscription_id(self.email, self.group)


ConsentChange = ChannelChange | GroupChange
