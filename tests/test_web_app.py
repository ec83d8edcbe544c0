"""The app factory: URL rules whose builders are shared between apps build what werkzeug's own rules build."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map, Rule

from ita_bot.web import create_app


def _values(rule: Rule) -> dict[str, Any]:
    """A value for each of the rule's arguments (numbers for <int:…>, text needing quoting otherwise)."""
    return {name: 2564 if isinstance(conv, IntegerConverter) else "ก ข/ค?"
            for name, conv in rule._converters.items()}


def test_every_route_builds_as_werkzeug_builds_it_in_every_app(config: Any) -> None:
    apps = [create_app(config, start_worker=False) for _ in range(2)]
    for app in apps:
        rules = list(app.url_map.iter_rules())
        assert len(rules) > 20  # the webhook, the report pages, the console
        own = Map([Rule(r.rule, **r.get_empty_kwargs()) for r in rules])  # werkzeug's Rule, compiled afresh
        adapter, own_adapter = app.url_map.bind("ita.example.go.th"), own.bind("ita.example.go.th")
        for rule in rules:
            for extra in ({}, {"fy": 2565, "q": "ไทย & more"}):
                values = {**extra, **_values(rule)}
                assert rule.endpoint  # every rule names its view
                built = adapter.build(rule.endpoint, values, method=sorted(rule.methods or {"GET"})[0])
                expected = own_adapter.build(rule.endpoint, values, method=sorted(rule.methods or {"GET"})[0])
                assert built == expected, rule.rule
    # The shared builders stay bound to their own rule.
    first, second = (next(r for r in app.url_map.iter_rules() if r.endpoint == "console.plan_section") for app in apps)
    assert first is not second and first._build.__self__ is first and second._build.__self__ is second


def test_templates_are_compiled_once_per_process_and_again_once_edited() -> None:
    from jinja2 import DictLoader, Environment

    from ita_bot.web import _CompiledTemplates

    compiled: list[str] = []

    class Counting(Environment):
        def compile(self, source: Any, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
            compiled.append(str(name))
            return super().compile(source, name, *args, **kwargs)

    cache = _CompiledTemplates()
    sources = {"page.html": "สวัสดี {{ who }}"}

    def app_env() -> Environment:  # each app has its own environment
        return Counting(loader=DictLoader(sources), bytecode_cache=cache)

    assert app_env().get_template("page.html").render(who="ก") == "สวัสดี ก"
    assert app_env().get_template("page.html").render(who="ข") == "สวัสดี ข"
    assert compiled == ["page.html"]
    sources["page.html"] = "ลาก่อน {{ who }}"  # edited: its checksum no longer matches
    assert app_env().get_template("page.html").render(who="ค") == "ลาก่อน ค"
    assert compiled == ["page.html", "page.html"]
