"""Authorize.Net's refusals: HTTP 200 with `messages.resultCode: "Error"` and a code (`E00007`, ...).

`AnetError` is raised anywhere a request is refused; the dispatcher turns it into the answer, echoing the
request's `refId` when it got that far. Transaction-level refusals (declines, `E00027`) are answers with a
`transactionResponse`, built by the transactions module, not errors.
"""

from __future__ import annotations

from typing import Any

from .settings import MESSAGES, NAMESPACE

__all__ = ["AnetError", "error_body", "incomplete", "invalid_child", "invalid_value"]


class AnetError(Exception):
    def __init__(self, code: str, text: str | None = None) -> None:
        self.code = code
        self.text = text or MESSAGES.get(code, code)
        super().__init__(f"{self.code}: {self.text}")


def error_body(
    code: str, text: str, ref_id: str | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = dict(extra or {})
    if ref_id is not None:
        out["refId"] = ref_id
    out["messages"] = {"resultCode": "Error", "message": [{"code": code, "text": text}]}
    return out


def _expected(names: list[str]) -> str:
    return (
        f" List of possible elements expected: '{', '.join(names)}' in namespace '{NAMESPACE}'."
        if names
        else ""
    )


def invalid_child(parent: str, child: str, expected: list[str]) -> AnetError:
    """The .NET XML schema validator's words for an element out of order or unknown."""
    return AnetError(
        "E00003",
        f"The element '{parent}' in namespace '{NAMESPACE}' has invalid child element '{child}' in namespace "
        f"'{NAMESPACE}'.{_expected(expected)}",
    )


def incomplete(parent: str, expected: list[str]) -> AnetError:
    return AnetError(
        "E00003",
        f"The element '{parent}' in namespace '{NAMESPACE}' has incomplete content.{_expected(expected)}",
    )


def invalid_value(element: str, value: str, datatype: str, reason: str) -> AnetError:
    return AnetError(
        "E00003",
        f"The '{NAMESPACE}:{element}' element is invalid - The value '{value}' is invalid according to its "
        f"datatype '{datatype}' - {reason}",
    )
