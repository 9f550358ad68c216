"""What a server process does to its heap once the app is built (the serve test runs it for real)."""

from __future__ import annotations

import gc

from tongban.core import serving


def test_a_server_process_freezes_what_start_up_made(monkeypatch):
    threshold = gc.get_threshold()
    built = object()
    monkeypatch.setattr("tongban.app.create_app", lambda: built)
    try:
        assert serving.APP == "tongban.core.serving:served_app"
        assert serving.served_app() is built
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (serving.YOUNG_COLLECTION_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert gc.get_freeze_count() == 0
