"""Bulk ways in: files of consent changes (Segment's subscription CSV format)."""

from adapters.imports.subscriptions_csv import (
    ErrorFile,
    ImportStopped,
    import_subscriptions,
)

__all__ = ["ErrorFile", "ImportStopped", "import_subscriptions"]
