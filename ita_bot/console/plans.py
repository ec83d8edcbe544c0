"""Plan editor, official results entry, next year's draft, plan TOML download/upload and the change history."""

from __future__ import annotations

from typing import Any

from ita_bot.console.base import bp, page

__all__: list[str] = []


@bp.get("/plans")
def plan_home() -> Any:
    return page("message.html", title="แผนมาตรการ", message="")


@bp.get("/results")
def results() -> Any:
    return page("message.html", title="ผลประเมิน ITA", message="")


@bp.get("/draft")
def draft() -> Any:
    return page("message.html", title="ร่างแผนปีถัดไป", message="")


@bp.get("/history")
def history() -> Any:
    return page("message.html", title="ประวัติการแก้ไข", message="")
