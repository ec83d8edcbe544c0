"""The stand-in's rich-menu endpoints refuse what LINE refuses (size, areas, texts, images) and keep its state rules."""

from __future__ import annotations

import copy
import struct
import zlib
from typing import Any

import pytest
import requests

from tests.conftest import CHAIR, SECRETARY, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def png(width: int, height: int) -> bytes:
    """A valid (tiny, blank) PNG of this size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"".join(b"\0" + b"\0" * width for _ in range(height)), 9)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def menu(width: int = 2500, height: int = 843, areas: int = 2, **fields: Any) -> dict[str, Any]:
    step = width // areas
    body = {
        "size": {"width": width, "height": height},
        "selected": False,
        "name": "test",
        "chatBarText": "เมนูคำสั่ง",
        "areas": [
            {"bounds": {"x": i * step, "y": 0, "width": step, "height": height},
             "action": {"type": "message", "label": f"ปุ่ม {i}", "text": f"/คำสั่ง{i}"}}
            for i in range(areas)
        ],
    }
    body.update(fields)
    return body


def post(standin: Any, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
    return requests.post(standin.url + path, json=body, headers=AUTH, timeout=5, **kwargs)


def create(standin: Any, body: dict[str, Any] | None = None) -> str:
    answer = post(standin, "/v2/bot/richmenu", body or menu())
    assert answer.status_code == 200, answer.text
    return str(answer.json()["richMenuId"])


def upload(standin: Any, menu_id: str, data: bytes, content_type: str = "image/png") -> requests.Response:
    return requests.post(f"{standin.url}/v2/bot/richmenu/{menu_id}/content", data=data,
                         headers={**AUTH, "Content-Type": content_type}, timeout=5)


def out_of_bounds() -> dict[str, Any]:
    body = menu()
    body["areas"][1]["bounds"]["width"] += 1
    return body


def no_text() -> dict[str, Any]:
    body = menu()
    del body["areas"][0]["action"]["text"]
    return body


def long_label() -> dict[str, Any]:
    body = menu()
    body["areas"][0]["action"]["label"] = "ก" * 21
    return body


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (menu(width=799, height=250), "size.width"),
        (menu(width=2501, height=1686), "size.width"),
        (menu(width=1000, height=249), "size.height"),
        (menu(width=1200, height=900), "size"),  # 1.33 < 1.45
        (menu(areas=21), "areas"),
        (out_of_bounds(), "areas[1].bounds"),
        (menu(chatBarText="ก" * 15), "chatBarText"),
        (menu(name="x" * 301), "name"),
        (menu(name=""), "name"),
        (no_text(), "areas[0].action.text"),
        (long_label(), "areas[0].action.label"),
    ],
)
def test_a_menu_outside_lines_limits_is_refused_on_create_and_validate(
    standin: Any, body: dict[str, Any], where: str
) -> None:
    for path in ("/v2/bot/richmenu/validate", "/v2/bot/richmenu"):
        answer = post(standin, path, copy.deepcopy(body))
        assert answer.status_code == 400, (path, answer.text)
        assert where in [d["property"] for d in answer.json()["details"]]
    assert standin.rich_menus() == []


def test_limits_at_their_edges_are_accepted(standin: Any) -> None:
    create(standin, menu(width=800, height=250, areas=20, chatBarText="ก" * 14, name="n" * 300))
    create(standin, menu(width=2500, height=1686))
    create(standin, menu(width=1450, height=1000))  # exactly 1.45
    assert len(standin.rich_menus()) == 3


def test_the_image_must_be_png_or_jpeg_of_the_menus_size_and_at_most_1_mb(standin: Any) -> None:
    menu_id = create(standin)
    assert upload(standin, menu_id, png(2500, 842)).status_code == 400
    assert upload(standin, menu_id, png(2500, 843), "image/gif").status_code == 415
    assert upload(standin, menu_id, b"GIF89a" + b"\0" * 100, "image/png").status_code == 400
    big = png(2500, 843)
    big = big[:-12] + struct.pack(">I", 1_100_000) + b"tEXt" + b"\0" * 1_100_000 + b"\0" * 4 + big[-12:]
    assert upload(standin, menu_id, big).status_code == 413
    assert standin.rich_menu_image(menu_id) is None
    assert upload(standin, menu_id, png(2500, 843)).status_code == 200
    assert upload(standin, menu_id, png(2500, 843)).status_code == 400  # one image per menu, ever
    got = requests.get(f"{standin.url}/v2/bot/richmenu/{menu_id}/content", headers=AUTH, timeout=5)
    assert got.status_code == 200 and got.content == png(2500, 843)


def test_default_links_and_deletion_follow_lines_rules(standin: Any) -> None:
    bare = create(standin)
    assert post(standin, f"/v2/bot/user/all/richmenu/{bare}").status_code == 400  # no image yet
    assert post(standin, f"/v2/bot/user/{CHAIR}/richmenu/{bare}").status_code == 400
    staff, managers = create(standin), create(standin)
    for menu_id in (staff, managers):
        assert upload(standin, menu_id, png(2500, 843)).status_code == 200
    assert post(standin, f"/v2/bot/user/all/richmenu/{staff}").status_code == 200
    linked = post(standin, "/v2/bot/richmenu/bulk/link", {"richMenuId": managers, "userIds": [CHAIR, SECRETARY]})
    assert linked.status_code == 202
    assert standin.rich_menu_shown_to(CHAIR)["richMenuId"] == managers
    assert standin.rich_menu_shown_to("U" + "0" * 32)["richMenuId"] == staff
    assert post(standin, "/v2/bot/richmenu/bulk/link", {"richMenuId": managers, "userIds": []}).status_code == 400
    assert post(standin, "/v2/bot/richmenu/bulk/link", {"richMenuId": managers,
                                                        "userIds": [CHAIR] * 501}).status_code == 400
    assert post(standin, f"/v2/bot/user/not-a-user/richmenu/{managers}").status_code == 400
    assert post(standin, "/v2/bot/richmenu/bulk/unlink", {"userIds": [SECRETARY]}).status_code == 202
    assert standin.linked_rich_menu(SECRETARY) is None
    listed = requests.get(f"{standin.url}/v2/bot/richmenu/list", headers=AUTH, timeout=5).json()["richmenus"]
    assert {m["richMenuId"] for m in listed} == {bare, staff, managers}
    # Deleting a menu ends it as the default and unlinks it from everyone.
    for menu_id in (staff, managers):
        assert requests.delete(f"{standin.url}/v2/bot/richmenu/{menu_id}", headers=AUTH, timeout=5).status_code == 200
    assert standin.default_rich_menu is None and standin.rich_menu_links() == {}
    assert requests.delete(f"{standin.url}/v2/bot/richmenu/{staff}", headers=AUTH, timeout=5).status_code == 404
    default = requests.get(f"{standin.url}/v2/bot/user/all/richmenu", headers=AUTH, timeout=5)
    assert default.status_code == 404
