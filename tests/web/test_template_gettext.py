"""Templates translate labels as Jinja's own newstyle gettext does: escaped where the template escapes,
variables escaped, always a format string, plurals by number."""

from __future__ import annotations

from jinja2 import Environment

from app.i18n import translations
from app.web.templating import build_environment


def jinja_reference(autoescape: bool) -> Environment:
    env = Environment(autoescape=autoescape, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(), newstyle=True)  # type: ignore[attr-defined]
    return env


SOURCES = (
    '{{ _("Fish & chips") }}',
    '{{ _("Fish & chips") }}{{ _("Fish & chips") }}',
    '{{ _("%(name)s said 100%%", name="<b>Ann</b>") }}',
    '{{ ngettext("%(num)d visit", "%(num)d visits", 1) }} {{ ngettext("%(num)d visit", "%(num)d visits", 3) }}',
    '{{ gettext("Plain") }} {% autoescape false %}{{ _("%(x)s", x="<i>") }}{{ _("Fish & chips") }}{% endautoescape %}',
)


def test_template_labels_render_exactly_as_jinjas_newstyle_gettext_renders_them():
    ours = build_environment()
    for autoescape in (True, False):
        ours.autoescape = autoescape
        reference = jinja_reference(autoescape)
        for source in SOURCES:
            expected = reference.from_string(source).render()
            assert ours.from_string(source).render() == expected, (autoescape, source)
            # Rendered again, from what the first render kept.
            assert ours.from_string(source).render() == expected, (autoescape, source)
