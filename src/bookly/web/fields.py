"""The site's form pieces, built in Python and called from templates as functions (rendering.py
registers them): a labelled field with its hint and error, the summary of a form's errors, and
a form's problem box. Jinja runs a macro call at several times the cost of a function call, and
the catalogue's filter form made nine of them on every page (bench/README.md, "The site's
pages").

Every value is escaped; a field's hint and error are tied to its control for screen readers
(`aria-describedby`, `aria-invalid`).
"""

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape


def field(
    name: str,
    label: str,
    value: Any = "",
    errors: Mapping[str, str] | None = None,
    type: str = "text",
    hint: str | None = None,
    required: bool = False,
    autocomplete: str | None = None,
    attrs: Mapping[str, Any] | None = None,
    mark_optional: bool = True,
) -> Markup:
    """A labelled input (or a textarea), with its hint and its error; a password's value is
    never written back into the page."""
    ident = f"f-{escape(name)}"
    error = (errors or {}).get(name)
    optional = ' <span class="optional">(optional)</span>' if not required and mark_optional else ""
    # The attributes after id, name (and an input's type and value), in the site's order.
    rest = (
        (" required" if required else "")
        + (f' autocomplete="{escape(autocomplete)}"' if autocomplete and type != "textarea" else "")
        + "".join(f' {escape(key)}="{escape(val)}"' for key, val in (attrs or {}).items())
        + _described(ident, hint, error)
    )
    if type == "textarea":
        control = f'<textarea id="{ident}" name="{escape(name)}"{rest}>{escape(value)}</textarea>'
    else:
        shown = "" if type == "password" else escape(value)
        named = f'id="{ident}" name="{escape(name)}" type="{escape(type)}"'
        control = f'<input {named} value="{shown}"{rest}>'
    parts = [
        f'<div class="field{" field--invalid" if error else ""}">',
        f'  <label for="{ident}">{escape(label)}{optional}</label>',
    ]
    if hint:
        parts.append(f'  <p class="hint" id="{ident}-hint">{escape(hint)}</p>')
    parts.append(f"  {control}")
    if error:
        parts.append(f'  <p class="field-error" id="{ident}-error">{escape(error)}</p>')
    parts.append("</div>\n")
    # Every value in the parts is escaped above.
    return Markup("\n".join(parts))  # noqa: S704


def _described(ident: str, hint: str | None, error: str | None) -> str:
    if not (hint or error):
        return ""
    described_by = " ".join(
        ([f"{ident}-error"] if error else []) + ([f"{ident}-hint"] if hint else [])
    )
    return f' aria-describedby="{described_by}"' + (' aria-invalid="true"' if error else "")


def error_summary(errors: Mapping[str, str]) -> Markup:
    """A form's errors at its top, each a link to its field; nothing without errors."""
    if not errors:
        return Markup("")
    which = "this field" if len(errors) == 1 else "these fields"
    items = "".join(
        f'<li><a href="#f-{escape(name)}">{escape(message)}</a></li>'
        for name, message in errors.items()
    )
    # The names and messages are escaped above.
    return Markup(  # noqa: S704
        f'<div class="notice notice--problem" role="alert">\n'
        f"  <p>Please correct {which}:</p>\n"
        f"  <ul>{items}</ul>\n"
        "</div>\n"
    )


def problem_box(problem: str | None) -> Markup:
    """What went wrong with a form as a whole (not with one field); nothing if nothing did."""
    if not problem:
        return Markup("")
    box = f'<div class="notice notice--problem" role="alert"><p>{escape(problem)}</p></div>\n'
    return Markup(box)  # noqa: S704 - the problem is escaped in it
