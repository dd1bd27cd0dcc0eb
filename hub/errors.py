"""Errors the hub raises. Each message is one line that names the setting and the fix."""

from __future__ import annotations


class HubError(Exception):
    """Base of every hub error."""


class HubConfigError(HubError):
    """The hub database is misconfigured, unreachable, or at the wrong schema revision."""
