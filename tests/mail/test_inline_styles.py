"""The e-mail body's styles written into style attributes, as CSS would apply them."""

from __future__ import annotations

import pytest

from itss_warehouse.mail.inline_styles import inline_styles

CSS = """
/* a comment */
td, th { padding: 4px; }
td.num { text-align: right; }
.bad { color: red; }
td { color: black; }
"""


def test_rules_apply_by_specificity_then_order_and_the_templates_own_style_last():
    html = '<table><tr><th>a</th><td class="num bad">1</td><td style="width: 3mm">x &lt;b&gt;</td></tr></table>'
    assert inline_styles(html, CSS) == (
        '<table><tr><th style="padding: 4px">a</th>'
        '<td class="num bad" style="padding: 4px; color: black; color: red; text-align: right">1</td>'
        '<td style="padding: 4px; color: black; width: 3mm">x &lt;b&gt;</td></tr></table>'
    )


def test_tags_without_a_rule_and_the_doctype_stay_as_they_are():
    html = '<!DOCTYPE html>\n<html lang="en"><meta charset="utf-8"><p>text</p></html>'
    assert inline_styles(html, CSS) == html


@pytest.mark.parametrize("selector", ["table td", "td:nth-child(2)", "#id", "a > b", ""])
def test_a_selector_it_cannot_inline_is_an_error(selector):
    with pytest.raises(ValueError, match="cannot inline the CSS selector"):
        inline_styles("<p>x</p>", f"{selector} {{ color: red; }}")


def test_a_double_quote_in_a_declaration_is_an_error():
    with pytest.raises(ValueError, match="single quotes"):
        inline_styles("<p>x</p>", 'p { font-family: "Noto Sans"; }')
