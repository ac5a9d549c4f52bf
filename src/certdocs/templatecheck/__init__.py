"""The template checker: every problem in the Word templates at once, in Chinese, before a render.

A template is read the way docxtpl reads it (``DocxTemplate.patch_xml``): the text of each
paragraph, a ``{%tr …%}`` / ``{%tc …%}`` / ``{%p …%}`` tag standing for its whole row, cell or
paragraph, Word's curly quotes inside tags made straight. Each paragraph becomes one line of a
virtual Jinja source, so a Jinja line number is a place office staff can find ("第3段",
"表格2 第4行第1列", "页眉 第1段"). What docxtpl repairs silently (a tag split over runs with
different formatting, curly quotes in pairs) is not reported; what it cannot (a tag split
across a hyperlink, tracked change or field, which its repair turns into broken XML) is.

Checked: Jinja syntax; tag pairs ({%tr for%}…{%tr endfor%} in one table, {%p if%}…{%p endif%}
beside each other); variables against the documented context (:func:`known_context`); images
whose parts are missing or only linked; Chinese fonts fontconfig cannot find even through
certdocs' alias file. Latin fonts are not reported (they fall back to DejaVu without tofu), nor
fontTable entries (Word lists every font it offers there, not the fonts used).
"""

from certdocs.templatecheck._check import check_template, check_templates
from certdocs.templatecheck._context import known_context

__all__ = ["check_template", "check_templates", "known_context"]
