"""Styles written into the tags' ``style`` attributes: many mail clients drop a ``<style>`` element.

The e-mail body's stylesheet (``mail.css``) is small and kept simple on purpose: rules whose
selectors are a tag (``td``), a class (``.bad``) or both (``td.num``). Any other selector is an
error, so a rule never silently fails to apply. As in CSS, a more specific selector wins
(tag < class < tag.class), a later rule over an earlier one of the same weight, and a style
the template wrote itself over every rule.

The HTML is the autoescaped output of our own templates: attribute values are double-quoted and
hold no ``<`` or ``>``, so a start tag is matched reliably without a full HTML parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
SELECTOR = re.compile(r"(?P<tag>[a-z][a-z0-9]*)?(?:\.(?P<class>[A-Za-z][\w-]*))?")
START_TAG = re.compile(r"<(?P<tag>[a-zA-Z][a-zA-Z0-9]*)(?P<attributes>(?:\s[^<>]*?)?)(?P<end>/?)>")
CLASS = re.compile(r'\sclass="([^"]*)"')
STYLE = re.compile(r'\sstyle="([^"]*)"')


@dataclass(frozen=True)
class _Rule:
    tag: str | None
    class_name: str | None
    declarations: str
    weight: tuple[int, int]  # (specificity, order in the stylesheet)

    def matches(self, tag: str, classes: set[str]) -> bool:
        return (self.tag is None or self.tag == tag) and (self.class_name is None or self.class_name in classes)


def parse_stylesheet(css: str) -> list[_Rule]:
    """The rules of ``css``, most specific last; raises ValueError on a selector it cannot inline."""
    rules = []
    for order, match in enumerate(RULE.finditer(COMMENT.sub("", css))):
        declarations = " ".join(match[2].split()).strip().rstrip(";")
        if '"' in declarations:
            raise ValueError(f"CSS for style attributes takes single quotes: {declarations!r}")
        for selector in (part.strip() for part in match[1].split(",")):
            parsed = SELECTOR.fullmatch(selector)
            if not selector or parsed is None:
                raise ValueError(f"cannot inline the CSS selector {selector!r}: use a tag, a .class or tag.class")
            specificity = (parsed["tag"] is not None) + 10 * (parsed["class"] is not None)
            rules.append(_Rule(parsed["tag"], parsed["class"], declarations, (specificity, order)))
    return sorted(rules, key=lambda rule: rule.weight)


def inline_styles(html: str, css: str) -> str:
    """``html`` with the rules of ``css`` in the style attributes of the tags they select."""
    rules = parse_stylesheet(css)

    def styled(tag: re.Match[str]) -> str:
        name, attributes = tag["tag"].lower(), tag["attributes"]
        class_attribute = CLASS.search(attributes)
        classes = set(class_attribute[1].split()) if class_attribute else set()
        declarations = [rule.declarations for rule in rules if rule.matches(name, classes)]
        if not declarations:
            return tag[0]
        if own := STYLE.search(attributes):
            declarations.append(own[1])
            attributes = STYLE.sub("", attributes)
        return f'<{tag["tag"]}{attributes} style="{"; ".join(declarations)}"{tag["end"]}>'

    return START_TAG.sub(styled, html)
