"""sitegen.ids: generated run ids and the slug / run-id validators of DESIGN.md section 2."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sitegen.ids import GENERATED_RUN_ID_RE, RUN_ID_RE, SLUG_RE, is_run_id, is_slug, new_run_id


def test_new_run_id_is_utc_time_plus_six_hex_and_a_valid_run_id():
    rid = new_run_id(datetime(2026, 11, 27, 6, 12, 0, tzinfo=timezone.utc))
    assert rid.startswith("20261127-061200-") and GENERATED_RUN_ID_RE.fullmatch(rid) and is_run_id(rid)
    assert len({new_run_id() for _ in range(50)}) > 45  # random suffix


@pytest.mark.parametrize("name, ok", [("mnist", True), ("a.b_c-1", True), ("0x", True), ("MNIST", False),
                                      ("-x", False), ("", False), ("a/b", False), ("..", False), (3, False)])
def test_is_slug(name, ok):
    assert is_slug(name) is ok
    assert (isinstance(name, str) and SLUG_RE.fullmatch(name) is not None) is ok


@pytest.mark.parametrize("name, ok", [("20261127-061200-a1b2c3", True), ("Run_1.x", True), ("a" * 128, True),
                                      ("a" * 129, False), (".hidden", False), ("a/b", False), ("", False),
                                      ("a b", False), (None, False)])
def test_is_run_id(name, ok):
    assert is_run_id(name) is ok
    assert (isinstance(name, str) and RUN_ID_RE.fullmatch(name) is not None) is ok
