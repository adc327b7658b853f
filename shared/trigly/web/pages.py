"""Customer pages: server-rendered HTML, mobile first, no JavaScript needed.

Templates are files in `templates/` beside this module (shipped in the Lambda artifact with the
package) and extend `base.html`, which carries the shared look: `lang="ru"`, the viewport meta,
a small inline stylesheet, large tap targets. Autoescaping is on for every `.html` template and
an undefined variable fails the render, so a page never shows `{{ name }}` or unescaped input.

    html = render_page("preferences.html", title="Настройки рассылок", dealer="Авто-Альфа", ...)

A page that records consent names its text with `text_version(name)`: the template file and a
hash of its source, so the ledger proves which wording the customer saw.
"""

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def render_page(name: str, **context: Any) -> str:
    """The page `templates/{name}` rendered with `context` (escaped)."""
    return environment().get_template(name).render(**context)


@cache
def text_version(name: str) -> str:
    """`{name}@{first 12 hex of the template's SHA-256}`: changes whenever its wording does."""
    digest = hashlib.sha256((TEMPLATES / name).read_bytes()).hexdigest()[:12]
    return f"{name.removesuffix('.html')}@{digest}"
