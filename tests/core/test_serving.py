"""What a server process does to its heap once the app is built (the serve test runs it for real)."""

from __future__ import annotations

import gc

from tongban.core import serving


def test_a_server_process_freezes_what_start_up_made(monkeypatch):
    threshold = gc.get_threshold()
    built = object()
    monkeypatch.setattr("tongban.app.create_app", lambda: built)
    try:
        from tongban.app import served_app

        assert served_app() is built
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (serving.YOUNG_COLLECTION_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert gc.get_freeze_count() == 0


def test_the_proxies_believed_are_a_setting_of_serve(monkeypatch):
    import pytest
    import uvicorn
    from pydantic import ValidationError

    from tongban.core.config import Settings

    given = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: given.update(options, app=app))
    serving.run("tongban.app:served_app", "127.0.0.1", 8000, 1, Settings(forwarded_allow_ips="10.20.0.0/16,10.30.0.5"))
    assert given["proxy_headers"] is True and given["forwarded_allow_ips"] == "10.20.0.0/16,10.30.0.5"
    assert given["app"] == "tongban.app:served_app" and given["factory"] is True
    monkeypatch.setenv("TONGBAN_FORWARDED_ALLOW_IPS", "192.0.2.7")
    serving.run("tongban.app:served_app", "127.0.0.1", 8000, 1)  # read from the environment, as `tongban serve` does
    assert given["forwarded_allow_ips"] == "192.0.2.7"
    assert Settings().forwarded_allow_ips == "192.0.2.7" and Settings(forwarded_allow_ips="*").forwarded_allow_ips == "*"
    monkeypatch.delenv("TONGBAN_FORWARDED_ALLOW_IPS")
    assert Settings().forwarded_allow_ips == "127.0.0.1"  # uvicorn's own default: a proxy on the same host
    with pytest.raises(ValidationError, match="TONGBAN_FORWARDED_ALLOW_IPS"):
        Settings(forwarded_allow_ips="proxy.example")


def test_a_worker_process_believes_the_same_proxies(monkeypatch):
    import uvicorn

    configs = []

    class Server:
        def __init__(self, config) -> None:
            configs.append(config)

        def run(self, sockets) -> None:
            pass

    monkeypatch.setattr(uvicorn, "Server", Server)
    monkeypatch.setenv("TONGBAN_FORWARDED_ALLOW_IPS", "10.20.0.0/16")
    monkeypatch.setenv("TONGBAN_RELAY_ENABLED", "true")
    monkeypatch.setattr("tongban.core.observability.configure_logging", lambda *args: None)
    serving._serve("tongban.app:served_app", None, background=True)
    assert configs[0].app == "tongban.app:served_app"
    assert configs[0].forwarded_allow_ips == "10.20.0.0/16" and configs[0].proxy_headers
