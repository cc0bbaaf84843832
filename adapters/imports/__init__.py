"""Bulk ways in: files of consent changes."""
