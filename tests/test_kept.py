"""certdocs._kept: what a process keeps by content, bounded by entries and by bytes."""

from __future__ import annotations

import threading

from certdocs._kept import Kept, digest


def test_the_least_recently_used_value_goes_first_when_there_are_too_many() -> None:
    kept: Kept[str] = Kept(entries=2)
    kept.put("a", "A")
    kept.put("b", "B")
    assert kept.get("a") == "A"  # now the most recently used
    kept.put("c", "C")
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == ("A", None, "C")


def test_values_go_until_the_bytes_they_stand_for_are_within_the_budget() -> None:
    kept: Kept[str] = Kept(entries=100, budget=10)
    kept.put("a", "A", size=6)
    kept.put("b", "B", size=6)
    assert (kept.get("a"), kept.get("b")) == (None, "B")


def test_a_value_kept_again_under_its_key_counts_once() -> None:
    kept: Kept[str] = Kept(entries=100, budget=10)
    for _ in range(5):
        kept.put("a", "A", size=6)
    kept.put("b", "B", size=4)
    assert (kept.get("a"), kept.get("b")) == ("A", "B")


def test_one_value_over_the_budget_is_still_kept_alone() -> None:
    kept: Kept[str] = Kept(entries=2, budget=1)
    assert kept.put("a", "A", size=5) == "A"
    assert kept.get("a") == "A"


def test_the_digest_tells_contents_apart_and_matches_the_same_bytes() -> None:
    same = b"".join([b"sty", b"les"])  # equal bytes in another object
    assert digest(b"styles") == digest(same)
    assert digest(b"styles") != digest(b"styles ")


def test_threads_putting_and_getting_at_once_leave_it_within_its_bounds() -> None:
    kept: Kept[int] = Kept(entries=8, budget=40)

    def work(n: int) -> None:
        for i in range(2000):
            kept.put((n, i % 13), i, size=i % 7)
            kept.get((n, (i + 5) % 13))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept._kept) <= 8
    assert kept._size == sum(size for _, size in kept._kept.values())
    assert kept._size <= 40 or len(kept._kept) == 1
