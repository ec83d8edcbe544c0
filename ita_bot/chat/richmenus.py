"""Rich menus on LINE: `python bot.py richmenu` creates them, and the managers' menu follows who is a manager."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime

from ita_bot.chat.journal import after_applied
from ita_bot.chat.menus import MENUS, NAME_PREFIX, Menu, available, image_for
from ita_bot.domain.menu_state import MenuState
from ita_bot.domain.notices import NoticeKind
from ita_bot.domain.office import Office
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineApiError, LineClient

__all__ = ["Installed", "current_menus", "install", "roles_changed", "sync_links", "sync_links_in_background"]

log = logging.getLogger(__name__)

NOTICE_KIND: NoticeKind = "richmenu"

# One sync at a time per database (two at once could each record a stale list of links).
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Installed:
    """What `install` made: the menus (as shown), their LINE IDs, managers linked, old menus removed."""

    menus: tuple[Menu, ...]
    ids: dict[str, str]
    linked: int
    deleted: int


def current_menus() -> tuple[Menu, ...]:
    """The menus with the buttons whose commands the bot has now."""
    return tuple(available(m) for m in MENUS)


def install(office: Office, line: LineClient, now: datetime) -> Installed:
    """Create both menus, upload their images, link the managers and make the staff menu the default;
    then delete every menu this command made before (named with its prefix; hand-made ones stay).

    New menus are made and switched to before old ones go, so users always have a menu. A run that
    LINE fails half-way (LineApiError) is undone before the error is raised: the menus in use before
    stay in use and the menus it made are deleted, so failed runs leave no orphans behind. (Should LINE
    refuse even the deletes, they keep the prefix and the next run deletes them.)
    """
    menus = current_menus()
    images = {m.key: image_for(m).read_bytes() for m in menus}  # a missing image stops us before LINE
    earlier = [m["richMenuId"] for m in line.rich_menus() if str(m.get("name", "")).startswith(NAME_PREFIX)]
    before = line.default_rich_menu()
    tag = now.astimezone(BANGKOK).strftime("/%Y-%m-%dT%H:%M:%S")
    managers = office.managers()
    ids: dict[str, str] = {}
    step = "create"
    try:
        for menu in menus:
            ids[menu.key] = line.create_rich_menu(menu.request(tag))
            line.upload_rich_menu_image(ids[menu.key], images[menu.key])
        # Managers first: until the default moves, staff keep the menu they had whatever happens here.
        if managers:
            step = "link"
            line.link_rich_menu(managers, ids["managers"])
        step = "default"
        line.set_default_rich_menu(ids["staff"])
    except LineApiError:
        _undo(office, line, ids, step, before, managers)
        raise
    office.repositories.menus.put(MenuState(ids["staff"], ids["managers"], tuple(managers)))
    for menu_id in earlier:
        line.delete_rich_menu(menu_id)  # LINE unlinks it from everyone still on it
    office.notices.resolve(NOTICE_KIND)
    log.info("rich menus installed: %s; %d manager(s) linked, %d earlier menu(s) deleted",
             ", ".join(f"{m.key} ({len(m.buttons)} buttons)" for m in menus), len(managers), len(earlier))
    return Installed(menus, ids, len(managers), len(earlier))


def _undo(office: Office, line: LineClient, made: dict[str, str], step: str, default: str | None,
          managers: list[str]) -> None:
    """Put back what a failed `install` switched (the default, the managers' links) and delete what it made.

    Best effort, each call on its own: LINE may be failing still. Managers whose links could not be put
    back are left to the next link sync, which links everyone the record does not list as linked.
    """
    menus = office.repositories.menus
    state = menus.get()
    try:
        if step == "default" and default:
            line.set_default_rich_menu(default)  # the call that failed may have taken effect all the same
        if step in ("link", "default") and state is not None:
            line.link_rich_menu(managers, state.managers)
            menus.put(replace(state, linked=tuple(sorted({*state.linked, *managers}))))
    except LineApiError as e:
        log.warning("rich menus: the earlier default or links not put back: LINE %s", e.status or "unreachable")
        if state is not None:
            menus.put(replace(state, linked=()))
    left = 0
    for menu_id in made.values():
        try:
            line.delete_rich_menu(menu_id)
        except LineApiError:
            left += 1
    log.warning("rich menus: a run failed half-way; %d menu(s) it made deleted, %d left for the next run",
                len(made) - left, left)


def _lock_for(office: Office) -> threading.Lock:
    # One lock per office of this process: its data folder on TinyDB, its slug on PostgreSQL (where every office
    # of a hosted service shares the database, and must not wait on another's menus).
    config = office.config
    key = f"{config.database_url and 'pg'}:{config.office}" if config.database_url else str(config.db_path)
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def sync_links(office: Office, line: LineClient, now: datetime) -> bool:
    """Link the managers' menu to exactly the managers (config and claimed roles); False when LINE failed,
    which is logged (status only) and told to the managers. Nothing to do before `richmenu` has run."""
    with _lock_for(office):
        menus = office.repositories.menus
        state = menus.get()
        if state is None:
            return True
        wanted = set(office.managers())
        linked = set(state.linked)
        add, remove = wanted - linked, linked - wanted
        try:
            if add:
                line.link_rich_menu(sorted(add), state.managers)
                menus.record_links(added=add)
            if remove:
                line.unlink_rich_menu(sorted(remove))
                menus.record_links(removed=remove)
        except LineApiError as e:
            log.warning("rich menu links not updated (%d to link, %d to unlink): LINE %s",
                        len(add), len(remove), e.status or "unreachable")
            office.notices.add(
                NOTICE_KIND,
                "ปรับเมนูคำสั่งใน LINE ให้ตรงกับผู้มีบทบาทประธาน/เลขานุการไม่สำเร็จ "
                f"(LINE ตอบ {e.status or 'ไม่ได้'}) ระบบจะลองอีกครั้งเมื่อมีการเปลี่ยนบทบาทหรือเริ่มระบบใหม่ "
                "หรือแจ้งผู้ดูแลระบบให้ตั้งเมนูใหม่",
                now,
                key=f"richmenu-links:{now.date().isoformat()}",
            )
            return False
        if add or remove:
            log.info("rich menu links updated: %d linked, %d unlinked", len(add), len(remove))
            office.notices.resolve(NOTICE_KIND)
        return True


def sync_links_in_background(office: Office, line: LineClient | None = None) -> threading.Thread | None:
    """Run `sync_links` on a thread of its own (never on a reply's path); None when there is nothing to do."""
    if office.repositories.menus.get() is None:
        return None

    def run() -> None:
        try:
            sync_links(office, line or LineClient.from_config(office.config), office.now())
        except Exception:  # a background thread must never take anything down; the next sync repairs
            log.exception("rich menu link sync failed")

    thread = threading.Thread(target=run, name="richmenu-links", daemon=True)
    thread.start()
    return thread


def roles_changed(office: Office) -> None:
    """Someone became or stopped being a manager (claimed code, removed person): their menu follows, once the
    change is stored (a chat event's changes commit when the event is applied; the sync reads on its own)."""
    after_applied(lambda: sync_links_in_background(office))
