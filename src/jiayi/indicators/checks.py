"""System checks of the indicators app."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register()
def indicator_rulesets_exist(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every rule set chosen in ``JIAYI["INDICATOR_RULESETS"]`` (JIAYI_INDICATOR_RULESETS) belongs to a
    rule domain of the engine and is registered (the rules modules are imported here)."""
    chosen = settings.JIAYI.get("INDICATOR_RULESETS") or {}
    if not chosen:
        return []
    from jiayi.core import rulesets
    from jiayi.indicators.facts import _import_rule_modules, rule_programmes

    _import_rule_modules()
    domains = rule_programmes()
    errors: list[checks.CheckMessage] = []
    for programme, code in chosen.items():
        if programme not in domains:
            errors.append(checks.Error(
                f"JIAYI_INDICATOR_RULESETS: unknown rule domain {programme!r}",
                hint=f"The indicator engine applies rule sets of: {', '.join(domains)}.",
                id="indicators.E001",
            ))
            continue
        try:
            rulesets.get(programme, code)
        except KeyError:
            known = ", ".join(rs.code for rs in rulesets.for_programme(programme))
            errors.append(checks.Error(
                f"JIAYI_INDICATOR_RULESETS: no rule set {code!r} of {programme!r}",
                hint=f"Registered rule sets of {programme!r}: {known}.",
                id="indicators.E002",
            ))
    return errors


@checks.register()
def indicator_daily_run_time(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``JIAYI["INDICATOR_DAILY_RUN_AT"]`` (JIAYI_INDICATOR_DAILY_RUN_AT) is a time of day HH:MM."""
    from jiayi.indicators.rules import parse_time_of_day

    text = settings.JIAYI.get("INDICATOR_DAILY_RUN_AT", "")
    try:
        parse_time_of_day(text)
    except ValueError:
        return [checks.Error(f"JIAYI_INDICATOR_DAILY_RUN_AT: not a time of day HH:MM: {text!r}",
                             hint="For example 02:00 (local time).", id="indicators.E003")]
    return []
