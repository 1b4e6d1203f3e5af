"""chalicelib.lazy: a module bound lazily loads at its first use, once, and threads that ask
during that first use wait for the whole module (found by the load run under `chalice local`:
importlib's LazyLoader on 3.11 showed them a half-executed module)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.lazy import lazy_module


@pytest.fixture
def slow_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "slow_to_import.py").write_text(
        "import time\nfirst = 1\ntime.sleep(0.2)  # a heavy import: threads arrive meanwhile\nlast = 2\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "slow_to_import"
    sys.modules.pop("slow_to_import", None)


def test_a_lazy_module_loads_at_first_use(slow_module: str) -> None:
    module = lazy_module(slow_module)
    assert slow_module not in sys.modules
    assert module.last == 2
    assert slow_module in sys.modules


def test_threads_at_the_first_use_all_see_the_whole_module(slow_module: str) -> None:
    module = lazy_module(slow_module)
    barrier = threading.Barrier(20)
    seen: list[object] = []

    def use() -> None:
        barrier.wait()
        try:
            seen.append(module.last)
        except AttributeError as exc:  # what LazyLoader did on 3.11
            seen.append(exc)

    threads = [threading.Thread(target=use) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [2] * 20


def test_an_unknown_module_is_refused_at_once() -> None:
    with pytest.raises(ModuleNotFoundError):
        lazy_module("chalicelib.no_such_module")
