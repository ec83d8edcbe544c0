"""Rich-menu endpoints of the LINE stand-in, with LINE's documented limits, and their recorded state."""

from __future__ import annotations

import re
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ita_bot.line_standin.api import Answer
from ita_bot.line_standin.validation import Problem, error_body

__all__ = [
    "RICH_MENU_CHECKS",
    "RICH_MENU_ROUTES",
    "RichMenuRoutes",
    "StoredRichMenu",
    "check_rich_menu",
    "image_size",
]

# LINE's documented limits (Messaging API reference, "Rich menu object" and "Upload rich menu image").
MIN_WIDTH, MAX_WIDTH, MIN_HEIGHT = 800, 2500, 250
MIN_ASPECT = 1.45
MAX_AREAS = 20
MAX_CHAT_BAR_TEXT = 14
MAX_NAME = 300
MAX_IMAGE_BYTES = 1024 * 1024
MAX_RICH_MENUS = 1000
MAX_BULK_USERS = 500
MAX_ACTION_LABEL = 20
MAX_MESSAGE_ACTION_TEXT = 300
ACTION_TYPES = {"postback", "message", "uri", "datetimepicker", "camera", "cameraRoll", "location", "richmenuswitch"}
_USER_ID = re.compile(r"U[0-9a-f]{32}")

_MSG_NOT_FOUND = "richmenu not found"
_MSG_NO_IMAGE = "must upload richmenu image before applying it to user"
_MSG_HAS_IMAGE = "An image has already been uploaded to the richmenu"


@dataclass
class StoredRichMenu:
    """A rich menu the stand-in holds: the request as created, and its image once uploaded."""

    id: str
    request: dict[str, Any]
    image: bytes | None = None
    content_type: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"richMenuId": self.id, **self.request}


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_rich_menu(body: Any) -> list[Problem]:
    """Problems with a rich menu object, in LINE's error-detail shape; [] when LINE would take it."""
    if not isinstance(body, dict):
        return [Problem("", "The request body must be a rich menu object")]
    problems: list[Problem] = []
    size = body.get("size")
    width = height = 0
    if not isinstance(size, dict) or not _int(size.get("width")) or not _int(size.get("height")):
        problems.append(Problem("size", "must be an object with integer width and height"))
    else:
        width, height = size["width"], size["height"]
        if not MIN_WIDTH <= width <= MAX_WIDTH:
            problems.append(Problem("size.width", f"must be between {MIN_WIDTH} and {MAX_WIDTH}"))
        if height < MIN_HEIGHT:
            problems.append(Problem("size.height", f"must be at least {MIN_HEIGHT}"))
        if height > 0 and width / height < MIN_ASPECT:
            problems.append(Problem("size", f"width/height must be at least {MIN_ASPECT}"))
    if not isinstance(body.get("selected"), bool):
        problems.append(Problem("selected", "must be specified"))
    name = body.get("name")
    if not isinstance(name, str) or not name:
        problems.append(Problem("name", "must be specified"))
    elif len(name) > MAX_NAME:
        problems.append(Problem("name", f"size must be between 0 and {MAX_NAME}"))
    bar = body.get("chatBarText")
    if not isinstance(bar, str) or not bar:
        problems.append(Problem("chatBarText", "must be specified"))
    elif len(bar) > MAX_CHAT_BAR_TEXT:
        problems.append(Problem("chatBarText", f"size must be between 0 and {MAX_CHAT_BAR_TEXT}"))
    areas = body.get("areas")
    if not isinstance(areas, list):
        return [*problems, Problem("areas", "must be specified")]
    if len(areas) > MAX_AREAS:
        problems.append(Problem("areas", f"size must be between 0 and {MAX_AREAS}"))
    for i, area in enumerate(areas):
        problems += _check_area(f"areas[{i}]", area, width, height)
    return problems


def _check_area(where: str, area: Any, width: int, height: int) -> list[Problem]:
    if not isinstance(area, dict):
        return [Problem(where, "must be an area object")]
    problems = []
    b = area.get("bounds")
    if not isinstance(b, dict) or not all(_int(b.get(k)) for k in ("x", "y", "width", "height")):
        problems.append(Problem(f"{where}.bounds", "must have integer x, y, width and height"))
    elif b["x"] < 0 or b["y"] < 0 or b["width"] < 1 or b["height"] < 1:
        problems.append(Problem(f"{where}.bounds", "must have x, y ≥ 0 and width, height ≥ 1"))
    elif width and height and (b["x"] + b["width"] > width or b["y"] + b["height"] > height):
        problems.append(Problem(f"{where}.bounds", "must be inside the rich menu"))
    action = area.get("action")
    if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
        return [*problems, Problem(f"{where}.action", "must be an action object")]
    label = action.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > MAX_ACTION_LABEL):
        problems.append(Problem(f"{where}.action.label", f"size must be between 0 and {MAX_ACTION_LABEL}"))
    if action["type"] == "message":
        text = action.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(f"{where}.action.text", "must be specified"))
        elif len(text) > MAX_MESSAGE_ACTION_TEXT:
            problems.append(Problem(f"{where}.action.text", f"size must be between 0 and {MAX_MESSAGE_ACTION_TEXT}"))
    return problems


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """("image/png" or "image/jpeg", width, height), or None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 4 <= len(data) and data[pos] == 0xFF:
            marker = data[pos + 1]
            length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                if pos + 9 > len(data):
                    return None
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return "image/jpeg", width, height
            pos += 2 + length
    return None


class RichMenuRoutes:
    """Mixin for LineStandIn: rich menus, their images, the default menu and per-user links."""

    _rich_menus: dict[str, StoredRichMenu]
    _default_rich_menu: str | None
    _rich_menu_links: dict[str, str]  # user id -> rich menu id

    # -- state, for assertions --------------------------------------------------------------------------

    def rich_menus(self) -> list[dict[str, Any]]:
        """Every rich menu as LINE lists it, plus `hasImage`."""
        with self._cond:  # type: ignore[attr-defined]
            return [{**m.as_json(), "hasImage": m.image is not None} for m in self._rich_menus.values()]

    def rich_menu_image(self, menu_id: str) -> bytes | None:
        with self._cond:  # type: ignore[attr-defined]
            menu = self._rich_menus.get(menu_id)
            return menu.image if menu else None

    @property
    def default_rich_menu(self) -> str | None:
        with self._cond:  # type: ignore[attr-defined]
            return self._default_rich_menu

    def linked_rich_menu(self, user_id: str) -> str | None:
        """The menu linked to this user (None: they see the default)."""
        with self._cond:  # type: ignore[attr-defined]
            return self._rich_menu_links.get(user_id)

    def rich_menu_links(self) -> dict[str, str]:
        with self._cond:  # type: ignore[attr-defined]
            return dict(self._rich_menu_links)

    def rich_menu_shown_to(self, user_id: str) -> dict[str, Any] | None:
        """The menu this user sees in a 1:1 chat: a linked one wins over the default."""
        with self._cond:  # type: ignore[attr-defined]
            menu_id = self._rich_menu_links.get(user_id) or self._default_rich_menu
            menu = self._rich_menus.get(menu_id or "")
            return menu.as_json() if menu else None

    # -- routes -----------------------------------------------------------------------------------------

    def _route_rich_menu_create(self, *, body: Any, problems: list[Problem], **_: Any) -> Answer:
        if problems:
            return Answer(400, error_body(problems))
        if len(self._rich_menus) >= MAX_RICH_MENUS:
            return Answer(400, {"message": f"The number of rich menus exceeds the limit ({MAX_RICH_MENUS})"})
        menu_id = "richmenu-" + secrets.token_hex(16)
        self._rich_menus[menu_id] = StoredRichMenu(menu_id, dict(body))
        return Answer(200, {"richMenuId": menu_id})

    def _route_rich_menu_validate(self, *, problems: list[Problem], **_: Any) -> Answer:
        return Answer(400, error_body(problems)) if problems else Answer(200, {})

    def _route_rich_menu_list(self, **_: Any) -> Answer:
        return Answer(200, {"richmenus": [m.as_json() for m in self._rich_menus.values()]})

    def _route_rich_menu_get(self, *, menu_id: str, **_: Any) -> Answer:
        menu = self._rich_menus.get(menu_id)
        return Answer(200, menu.as_json()) if menu else Answer(404, {"message": _MSG_NOT_FOUND})

    def _route_rich_menu_delete(self, *, menu_id: str, **_: Any) -> Answer:
        if self._rich_menus.pop(menu_id, None) is None:
            return Answer(404, {"message": _MSG_NOT_FOUND})
        # As on LINE: deleting a menu also ends it as the default and unlinks it from everyone.
        if self._default_rich_menu == menu_id:
            self._default_rich_menu = None
        for user_id in [u for u, m in self._rich_menu_links.items() if m == menu_id]:
            del self._rich_menu_links[user_id]
        return Answer(200, {})

    def _route_rich_menu_upload(self, *, menu_id: str, headers: dict[str, str], raw: bytes, **_: Any) -> Answer:
        menu = self._rich_menus.get(menu_id)
        if menu is None:
            return Answer(404, {"message": _MSG_NOT_FOUND})
        if menu.image is not None:
            return Answer(400, {"message": _MSG_HAS_IMAGE})
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("image/png", "image/jpeg"):
            return Answer(415, {"message": "Unsupported Media Type: use image/jpeg or image/png"})
        if len(raw) > MAX_IMAGE_BYTES:
            return Answer(413, {"message": "Request Entity Too Large: the image must be 1 MB or less"})
        found = image_size(raw)
        if found is None or found[0] != content_type:
            return Answer(400, {"message": "The image is not a valid JPEG or PNG file of the declared type"})
        size = menu.request["size"]
        if (found[1], found[2]) != (size["width"], size["height"]):
            return Answer(400, {"message": "The image size must be the same as the rich menu size"})
        menu.image, menu.content_type = bytes(raw), content_type
        return Answer(200, {})

    def _route_rich_menu_image(self, *, menu_id: str, **_: Any) -> Answer:
        menu = self._rich_menus.get(menu_id)
        if menu is None or menu.image is None:
            return Answer(404, {"message": _MSG_NOT_FOUND})
        return Answer(200, data=menu.image, content_type=menu.content_type or "image/png")

    def _usable(self, menu_id: str) -> Answer | None:
        """None when the menu exists with an image, else LINE's answer."""
        menu = self._rich_menus.get(menu_id)
        if menu is None:
            return Answer(404, {"message": _MSG_NOT_FOUND})
        if menu.image is None:
            return Answer(400, {"message": _MSG_NO_IMAGE})
        return None

    def _route_rich_menu_set_default(self, *, menu_id: str, **_: Any) -> Answer:
        refused = self._usable(menu_id)
        if refused:
            return refused
        self._default_rich_menu = menu_id
        return Answer(200, {})

    def _route_rich_menu_default(self, **_: Any) -> Answer:
        if self._default_rich_menu is None:
            return Answer(404, {"message": "no default richmenu"})
        return Answer(200, {"richMenuId": self._default_rich_menu})

    def _route_rich_menu_cancel_default(self, **_: Any) -> Answer:
        self._default_rich_menu = None
        return Answer(200, {})

    def _route_rich_menu_link(self, *, user_id: str, menu_id: str, **_: Any) -> Answer:
        if not _USER_ID.fullmatch(user_id):
            return Answer(400, {"message": "The value for the 'userId' parameter is invalid"})
        refused = self._usable(menu_id)
        if refused:
            return refused
        self._rich_menu_links[user_id] = menu_id
        return Answer(200, {})

    def _route_rich_menu_of_user(self, *, user_id: str, **_: Any) -> Answer:
        if user_id not in self._rich_menu_links:
            return Answer(404, {"message": "the user has no richmenu"})
        return Answer(200, {"richMenuId": self._rich_menu_links[user_id]})

    def _route_rich_menu_unlink(self, *, user_id: str, **_: Any) -> Answer:
        if not _USER_ID.fullmatch(user_id):
            return Answer(400, {"message": "The value for the 'userId' parameter is invalid"})
        self._rich_menu_links.pop(user_id, None)
        return Answer(200, {})

    def _bulk_users(self, body: Any) -> tuple[list[str], Answer | None]:
        users = body.get("userIds") if isinstance(body, dict) else None
        if not isinstance(users, list) or not 1 <= len(users) <= MAX_BULK_USERS:
            return [], Answer(400, error_body([Problem("userIds", f"size must be between 1 and {MAX_BULK_USERS}")]))
        bad = [Problem(f"userIds[{i}]", "invalid user ID") for i, u in enumerate(users)
               if not isinstance(u, str) or not _USER_ID.fullmatch(u)]
        return users, (Answer(400, error_body(bad)) if bad else None)

    def _route_rich_menu_bulk_link(self, *, body: Any, **_: Any) -> Answer:
        users, refused = self._bulk_users(body)
        if refused:
            return refused
        refused = self._usable(str(body.get("richMenuId") or ""))
        if refused:
            return refused
        for user_id in users:  # LINE applies a bulk link asynchronously; the stand-in at once
            self._rich_menu_links[user_id] = body["richMenuId"]
        return Answer(202, {})

    def _route_rich_menu_bulk_unlink(self, *, body: Any, **_: Any) -> Answer:
        users, refused = self._bulk_users(body)
        if refused:
            return refused
        for user_id in users:
            self._rich_menu_links.pop(user_id, None)
        return Answer(202, {})


_ID = r"(?P<menu_id>[^/]+)"
_USER = r"(?P<user_id>[^/]+)"
#: (method, path pattern, route); the fixed paths come before the ones taking an ID.
RICH_MENU_ROUTES: list[tuple[str, re.Pattern[str], str]] = [(m, re.compile(p), name) for m, p, name in [
    ("POST", r"/v2/bot/richmenu", "_route_rich_menu_create"),
    ("POST", r"/v2/bot/richmenu/validate", "_route_rich_menu_validate"),
    ("GET", r"/v2/bot/richmenu/list", "_route_rich_menu_list"),
    ("POST", r"/v2/bot/richmenu/bulk/link", "_route_rich_menu_bulk_link"),
    ("POST", r"/v2/bot/richmenu/bulk/unlink", "_route_rich_menu_bulk_unlink"),
    ("POST", rf"/v2/bot/richmenu/{_ID}/content", "_route_rich_menu_upload"),
    ("GET", rf"/v2/bot/richmenu/{_ID}/content", "_route_rich_menu_image"),
    ("GET", rf"/v2/bot/richmenu/{_ID}", "_route_rich_menu_get"),
    ("DELETE", rf"/v2/bot/richmenu/{_ID}", "_route_rich_menu_delete"),
    ("GET", r"/v2/bot/user/all/richmenu", "_route_rich_menu_default"),
    ("DELETE", r"/v2/bot/user/all/richmenu", "_route_rich_menu_cancel_default"),
    ("POST", rf"/v2/bot/user/all/richmenu/{_ID}", "_route_rich_menu_set_default"),
    ("GET", rf"/v2/bot/user/{_USER}/richmenu", "_route_rich_menu_of_user"),
    ("DELETE", rf"/v2/bot/user/{_USER}/richmenu", "_route_rich_menu_unlink"),
    ("POST", rf"/v2/bot/user/{_USER}/richmenu/{_ID}", "_route_rich_menu_link"),
]]
# The rich menu routes' body checks (see MessagingApiRoutes._body_checks: run before the lock is taken).
RICH_MENU_CHECKS: dict[str, Callable[[Any], list[Problem]]] = {
    "_route_rich_menu_create": lambda body: check_rich_menu(body),
    "_route_rich_menu_validate": lambda body: check_rich_menu(body),
}
