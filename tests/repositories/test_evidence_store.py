"""Contract of the evidence repository: files' bytes kept whole under their names, on every backend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from ita_bot.domain.evidence import evidence_name
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
PDF = b"%PDF-1.4\n%%EOF\n"


def test_saved_bytes_are_opened_by_their_name_in_another_process(open_repositories: Callable[[], Repositories]) -> None:
    before = datetime.now(BANGKOK) - timedelta(seconds=2)
    name = evidence_name(2564, "r1", "123.jpg")
    assert name == "2564/r1/123.jpg"
    open_repositories().evidence.save(name, JPEG)
    open_repositories().evidence.save(evidence_name(2564, "r1", "124.pdf"), PDF)
    kept = open_repositories().evidence.open(name)
    assert kept is not None and kept.data == JPEG
    assert before <= kept.saved_at <= datetime.now(BANGKOK) + timedelta(seconds=2)
    assert open_repositories().evidence.open("2564/r1/124.pdf").data == PDF  # type: ignore[union-attr]


def test_a_name_never_saved_is_none(repositories: Repositories) -> None:
    evidence = repositories.evidence
    evidence.save("2564/r1/1.jpg", JPEG)
    for name in ("2564/r1/2.jpg", "2564/r1", "2564", "2565/r1/1.jpg", ""):
        assert evidence.open(name) is None, name


def test_saving_the_same_name_again_keeps_the_later_bytes(repositories: Repositories) -> None:
    evidence = repositories.evidence
    evidence.save("2564/r1/1.jpg", JPEG)
    evidence.save("2564/r1/1.jpg", JPEG[:100])  # a replayed event's download, say
    assert evidence.open("2564/r1/1.jpg").data == JPEG[:100]  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["../x.jpg", "2564/../../x.jpg", "/etc/passwd", "2564//x.jpg", "./x.jpg",
                                  "2564/r1/", "a\\..\\x", ""])
def test_a_name_leading_anywhere_else_is_refused_and_never_opened(repositories: Repositories, name: str) -> None:
    """A stored entry's "file" is data (and old data can be hostile): no name reaches past the evidence."""
    with pytest.raises(ValueError):
        repositories.evidence.save(name, JPEG)
    assert repositories.evidence.open(name) is None


def test_a_reader_never_sees_part_of_a_file(open_repositories: Callable[[], Repositories]) -> None:
    writer, reader = open_repositories().evidence, open_repositories().evidence
    big, other = JPEG * 20, PDF * 5000
    writer.save("2564/r1/1.jpg", big)
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            kept = reader.open("2564/r1/1.jpg")
            assert kept is not None
            seen.add(kept.data)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for n in range(20):
            writer.save("2564/r1/1.jpg", other if n % 2 == 0 else big)
    finally:
        done.set()
        thread.join(10)
    assert seen <= {big, other}
