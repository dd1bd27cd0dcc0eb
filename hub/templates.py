"""Notification templates: Jinja2, an SMS text and an email (subject, plain text, HTML) per event.

The shipped templates live in `hub/notification_templates/` (`<event>.sms.j2`, `<event>.subject.j2`,
`<event>.txt.j2`, `<event>.html.j2`, and `_layout.html.j2`, which the HTML templates extend). A folder the
user points at (the Notification Settings block's `templates_folder`) overrides any of them file by file,
and may add templates for events of its own.

`Templates.load(folder)` compiles every template it can see, so a bad one fails at once with its file and
line (`TemplateProblem`), not when the first customer's message is rendered. Rendering is strict: a
variable the event did not provide is an error naming the template, its line and the variable
(`RenderProblem`), which the dispatch records on the row instead of sending a message with a hole in it.
HTML templates are autoescaped.
"""

from __future__ import annotations

import html
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "EMAIL_PARTS",
    "MAX_SMS_CHARS",
    "MAX_SUBJECT_CHARS",
    "PACKAGE_FOLDER",
    "RenderProblem",
    "RenderedEmail",
    "TemplateProblem",
    "Templates",
    "html_to_text",
]

PACKAGE_FOLDER = Path(__file__).with_name("notification_templates")
SUFFIX = ".j2"
EMAIL_PARTS = ("subject", "txt", "html")
MAX_SMS_CHARS = 1600  # Twilio refuses longer bodies (21617)
MAX_SUBJECT_CHARS = 998  # RFC 5322's line limit; a subject longer than that is a template bug


class TemplateProblem(ValueError):
    """A template that cannot be used: missing folder, syntax error. The message names file and line."""


class RenderProblem(ValueError):
    """A message that cannot be rendered or sent as rendered (missing variable, empty, too long)."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class Templates:
    """The compiled templates of one dispatch run (shipped ones, overridden by a folder)."""

    def __init__(self, env: jinja2.Environment, names: set[str], origin: dict[str, str]) -> None:
        self._env = env
        self.names = names
        self.origin = origin  # template name -> the file it came from

    @classmethod
    def load(cls, folder: str | Path | None = None) -> Templates:
        """Compile every template: the shipped ones and, when given, the folder's (which win).

        Raises:
            TemplateProblem: the folder does not exist, or a template does not compile (file and line).
        """
        loaders: list[jinja2.BaseLoader] = []
        override: Path | None = None
        if folder:
            override = Path(folder).expanduser()
            if not override.is_dir():
                raise TemplateProblem(f"the templates folder {override} does not exist or is not a folder")
            loaders.append(jinja2.FileSystemLoader(str(override)))
        loaders.append(jinja2.FileSystemLoader(str(PACKAGE_FOLDER)))
        env = SandboxedEnvironment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            autoescape=lambda name: bool(name) and name.endswith(".html" + SUFFIX),
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        names: set[str] = set()
        origin: dict[str, str] = {}
        for source in ([override] if override else []) + [PACKAGE_FOLDER]:
            for path in sorted(source.glob(f"*{SUFFIX}")):
                if path.name in names:
                    continue  # the override folder's copy was compiled already
                names.add(path.name)
                origin[path.name] = str(path)
                try:
                    env.get_template(path.name)
                except jinja2.TemplateSyntaxError as exc:
                    raise TemplateProblem(
                        f"{exc.filename or path}, line {exc.lineno}: {exc.message}"
                    ) from None
        return cls(env, names, origin)

    def events(self) -> set[str]:
        """Events with at least one template (not the `_` partials)."""
        return {n.split(".", 1)[0] for n in self.names if not n.startswith("_")}

    def has(self, event: str, channel: str) -> bool:
        parts = ("sms",) if channel == "sms" else EMAIL_PARTS
        return all(f"{event}.{p}{SUFFIX}" in self.names for p in parts)

    def render_sms(self, event: str, context: Mapping[str, Any]) -> str:
        """The SMS text of `event`, trimmed; checked not empty and at most 1,600 characters.

        Raises:
            RenderProblem: no template for the event, a missing variable, an empty or too long text.
        """
        body = self._render(event, "sms", context).strip()
        return check_sms(body)

    def render_email(self, event: str, context: Mapping[str, Any]) -> RenderedEmail:
        """The email of `event`: subject (one line), plain text and HTML.

        Raises:
            RenderProblem: no template for the event, a missing variable, an empty subject or body.
        """
        subject = " ".join(self._render(event, "subject", context).split())
        text = self._render(event, "txt", context).strip()
        body = self._render(event, "html", context).strip()
        return check_email(subject, text, body)

    def _render(self, event: str, part: str, context: Mapping[str, Any]) -> str:
        name = f"{event}.{part}{SUFFIX}"
        if name not in self.names:
            raise RenderProblem(f"no template {name} for event {event!r} (unknown event, or a missing file)")
        try:
            return self._env.get_template(name).render(context)
        except jinja2.UndefinedError as exc:
            raise RenderProblem(f"{self._where(exc, name)}: {_undefined(exc)}") from None
        except jinja2.TemplateError as exc:
            raise RenderProblem(f"{self._where(exc, name)}: {exc}") from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise RenderProblem(f"{self._where(exc, name)}: {type(exc).__name__}: {exc}") from None

    def _where(self, exc: BaseException, name: str) -> str:
        """`order-confirmation.html.j2, line 7` (the innermost template line in the traceback)."""
        files = {Path(f).name: f for f in self.origin.values()}
        line = None
        where = name
        for frame in traceback.extract_tb(exc.__traceback__):
            base = Path(frame.filename).name
            if base in files:
                where, line = base, frame.lineno
        return f"{where}, line {line}" if line else where


def check_sms(body: str) -> str:
    """`body` if it is an SMS Twilio will take.

    Raises:
        RenderProblem: empty, or over 1,600 characters.
    """
    if not body.strip():
        raise RenderProblem("the SMS text is empty")
    if len(body) > MAX_SMS_CHARS:
        raise RenderProblem(
            f"the SMS text is {len(body):,} characters; Twilio takes at most {MAX_SMS_CHARS:,}"
        )
    return body


def check_email(subject: str, text: str, body_html: str) -> RenderedEmail:
    """The email if SendGrid will take it: a subject of one line, some content.

    Raises:
        RenderProblem: empty subject or content, or a subject over 998 characters.
    """
    subject = " ".join(subject.split())
    if not subject:
        raise RenderProblem("the email subject is empty")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise RenderProblem(f"the email subject is {len(subject):,} characters; at most {MAX_SUBJECT_CHARS}")
    if not text.strip() and not body_html.strip():
        raise RenderProblem("the email has no content")
    return RenderedEmail(subject=subject, text=text, html=body_html)


def _undefined(exc: jinja2.UndefinedError) -> str:
    message = str(exc)
    match = re.search(r"'([^']+)' is undefined", message) or re.search(r"has no attribute '([^']+)'", message)
    if match:
        return f"the event did not provide {match.group(1)!r} ({message})"
    return message


class _TextExtractor(HTMLParser):
    _BREAKS = {"br", "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """A plain-text rendering of an HTML body (for the text/plain part of a direct email)."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def looks_like_html(content: str) -> bool:
    return bool(re.search(r"<[a-zA-Z][^>]*>", content))


def text_to_html(text: str) -> str:
    """Plain text as a minimal HTML body (escaped, paragraphs kept)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
