"""The sandbox a message template renders in.

Marketers write these, so a template is untrusted code:

- Jinja2's `ImmutableSandboxedEnvironment`, narrowed further: no globals (`range`, `cycler`,
  `joiner`, `namespace`, `lipsum`), a short list of filters, no attribute access except a
  mapping's keys, a date's fields and the loop's counters; `%` on strings, `str.format` and big
  `*`/`**` are refused; macros, includes, imports, blocks and `{% autoescape %}` are refused when
  the template is checked, so no recursion and no way to switch escaping off;
- `StrictUndefined`: a missing variable fails the render (`template_error`), so a customer never
  gets `{{ name }}` or an empty greeting; an explicit none renders as nothing;
- HTML (the email body) is autoescaped; text parts are not (they are not HTML);
- every failure — syntax, a missing variable, an unsafe access, an over-long result — is one
  `TemplateError` with the part it came from.

The filters are `formatting`'s.
"""

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from trigly.messaging.formatting import DEALER_FILTERS, KEPT_JINJA_FILTERS
from trigly.messaging.templates import MessageTemplate, TemplateError, template_parts

MAX_OUTPUT = 200_000
_MAX_REPEAT = 10_000
_MAX_BITS = 1024  # numbers in messages are prices and dates, not cryptography
_DATE_FIELDS = frozenset({"year", "month", "day", "hour", "minute"})
_LOOP_FIELDS = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0"}
)
_REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Macro: "macros",
    nodes.CallBlock: "call blocks",
    nodes.Include: "includes",
    nodes.Import: "imports",
    nodes.FromImport: "imports",
    nodes.Extends: "extends",
    nodes.Block: "blocks",
    nodes.EvalContextModifier: "autoescape switches",
    nodes.ScopedEvalContextModifier: "autoescape switches",
}


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, narrowed to plain data (see the module)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            finalize=lambda value: "" if value is None else value,
            auto_reload=False,
            cache_size=0,
        )
        self.globals.clear()
        self.filters = {
            name: JINJA_FILTERS[name] for name in KEPT_JINJA_FILTERS if name in JINJA_FILTERS
        }
        self.filters.update(DEALER_FILTERS)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):
            return self._key(obj, attribute)
        if isinstance(obj, date) and attribute in _DATE_FIELDS:
            return getattr(obj, attribute, self.undefined(obj=obj, name=attribute))
        if isinstance(obj, LoopContext) and attribute in _LOOP_FIELDS:
            return getattr(obj, attribute)
        if isinstance(obj, Undefined):
            return obj  # StrictUndefined raises when it is used
        return self.unsafe_undefined(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Mapping):
            return self._key(obj, argument)
        if isinstance(obj, list | tuple | str) and isinstance(argument, int | slice):
            try:
                return obj[argument]
            except IndexError:
                return self.undefined(obj=obj, name=str(argument))
        if isinstance(obj, Undefined):
            return obj
        return self.unsafe_undefined(obj, str(argument))

    def _key(self, obj: Mapping[Any, Any], key: Any) -> Any:
        if isinstance(key, str) and key.startswith("_"):
            return self.unsafe_undefined(obj, key)
        try:
            return obj[key]
        except (KeyError, TypeError):
            return self.undefined(obj=obj, name=str(key))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not available; use filters")
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        if _is_int(left) and _is_int(right):
            bits = abs(left).bit_length()
            grown = bits * right if operator == "**" else bits + abs(right).bit_length()
            if operator in {"*", "**"} and grown > _MAX_BITS:
                raise SecurityError("the number would be too large")
        return super().call_binop(context, operator, left, right)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_repeat(sequence: Any, times: Any) -> None:
    repeats = isinstance(sequence, str | list | tuple) and _is_int(times)
    if repeats and len(sequence) * times > _MAX_REPEAT:
        raise SecurityError("the repeated text would be too long")


_HTML = _Sandbox(autoescape=True)
_TEXT = _Sandbox(autoescape=False)


def _refused_construct(tree: nodes.Template) -> str | None:
    for node_type, what in _REFUSED_NODES.items():
        if tree.find(node_type) is not None:
            return what
    if any(name.name == "self" for name in tree.find_all(nodes.Name)):
        return "references to the template itself (`self`)"
    return None


@lru_cache(maxsize=512)
def _compile(source: str, html: bool) -> JinjaTemplate:
    env = _HTML if html else _TEXT
    tree = env.parse(source)
    refused = _refused_construct(tree)
    if refused is not None:
        raise SecurityError(f"{refused}: not available in message templates")
    return env.from_string(source)


def _describe(exc: Exception) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"syntax error on line {exc.lineno}: {exc.message}"
    if isinstance(exc, SecurityError):
        return f"not allowed: {exc}"
    return str(exc) or type(exc).__name__


def render_part(part: str, source: str, variables: Mapping[str, Any], *, html: bool) -> str:
    try:
        out = _compile(source, html).render(variables)
    except Exception as exc:  # untrusted template code: any failure is the template's
        raise TemplateError(part, _describe(exc)) from exc
    if len(out) > MAX_OUTPUT:
        raise TemplateError(part, f"the result is longer than {MAX_OUTPUT} characters")
    return out


def check_template(template: MessageTemplate) -> list[TemplateError]:
    """Every part that does not compile, or uses what templates may not (for the API on save)."""
    problems: list[TemplateError] = []
    try:
        parts = list(template_parts(template))
    except TemplateError as exc:  # MJML that does not compile
        return [exc]
    for part, source, html in parts:
        try:
            _compile(source, html)
        except Exception as exc:
            problems.append(TemplateError(part, _describe(exc)))
    return problems
