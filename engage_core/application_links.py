"""The application's signed links: preference, unsubscribe and confirmation URLs for a contact,
and the `List-Unsubscribe` headers a sender adds to an email (`engage_core.links`)."""

from __future__ import annotations

__all__ = ["LinkMethods"]


class LinkMethods:
    """Mixed into `EngageApplication`: the link methods."""
