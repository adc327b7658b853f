"""The plain-text part of an email derived from its HTML, and HTML paragraphs from plain text."""

import re
from html.parser import HTMLParser

from markupsafe import escape

_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")


class _TextOfHtml(HTMLParser):
    _PARAGRAPHS = frozenset(
        {"p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote"}
    )
    _LINES = frozenset({"br", "tr"})
    _HIDDEN = frozenset({"style", "script", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden = 0
        self._links: list[tuple[str | None, int]] = []  # href, where its label starts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._PARAGRAPHS:
            self.out.append("\n\n")
        elif tag in self._LINES:
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n• ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.out)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._PARAGRAPHS:
            self.out.append("\n\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.out[start:]).strip()
            if href and href != label and not href.startswith("mailto:"):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.out.append(_ASCII_SPACE.sub(" ", data))  # keeps no-break spaces


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs (blank lines part paragraphs, newlines break lines)."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs
    )


def html_to_text(html: str) -> str:
    """A readable plain-text part of an HTML email: paragraphs on lines, links as `text (url)`."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [_ASCII_SPACE.sub(" ", line).strip(" ") for line in "".join(parser.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
