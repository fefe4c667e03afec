"""A Markdown document rendered as a safe page: no raw HTML, no images, only http(s), relative and
#anchor links, in a page of its own (served under the documents' strict CSP)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def is_safe_link(url: str) -> bool:
    """Only http(s) and relative links (and #anchors); never javascript:, data:, file:, ..."""
    # Browsers drop tabs and newlines inside a scheme; percent-decode too, to judge the strictest reading
    cleaned = "".join(ch for ch in unquote(url) if ch > " ").lower()
    scheme = _SCHEME.match(cleaned)
    return scheme is None or scheme.group(1) in ("http", "https")


def _markdown() -> MarkdownIt:
    # "js-default": raw HTML in the file is escaped as text, no linkify, no typographer.
    md = MarkdownIt("js-default")
    md.validateLink = is_safe_link  # type: ignore[method-assign]

    def link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)

    def image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        # No <img> at all: a remote picture is a tracking pixel (the reader's address and time go to
        # whoever runs it), and a relative one names nothing this server has. The alt text stays.
        alt = renderer.renderInlineAsText(tokens[idx].children or [], options, env)
        return f'<span class="image-omitted">[{html.escape(f"图片：{alt}" if alt else "图片")}]</span>'

    md.add_render_rule("image", image)
    return md


_MD = _markdown()


def render_markdown(text: str) -> str:
    """HTML that runs nothing and loads nothing: raw HTML is shown as text, links only to http(s) or
    relative places, images only as their alt text."""
    return _MD.render(text)


def markdown_page(title: str, body_html: str) -> str:
    """A standalone, printable page around rendered Markdown (served with a no-script CSP)."""
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>"
            "body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;line-height:1.7;"
            "max-width:46em;margin:2em auto;padding:0 1em;color:#222}"
            "pre,code{white-space:pre-wrap}table{border-collapse:collapse}td,th{border:1px solid #999;"
            "padding:.2em .5em}img{max-width:100%}@media print{body{margin:0;max-width:none}}"
            f"</style></head><body><article>{body_html}</article></body></html>")
