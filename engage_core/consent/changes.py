"""Requested consent changes: one update of a channel subscription or of a group subscription."""

from __future__ import annotations

from functools import cached_property
from uuid import UUID

import attrs

from engage_core.consent.contacts import ContactKey, group_subscription_id, normalise_group_name
from engage_core.consent.rules import Update


@attrs.frozen
class ChannelChange:
    contact: ContactKey
    update: Update


@attrs.frozen
class GroupChange:
    email: ContactKey
    group: str = attrs.field(converter=normalise_group_name)
    update: Update = attrs.field(kw_only=True)

    @cached_property
    def subscription_id(self) -> UUID:
        return group_subscription_id(self.email, self.group)


ConsentChange = ChannelChange | GroupChange
