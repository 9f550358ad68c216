"""The browser tests' helpers, where these tests have always found them (the fixtures themselves,
``browser``, ``live_server`` and ``page``, are registered once by the root conftest)."""

from browser_fixtures import CHROMIUM, CHROMIUM_ARGS, screenshot, sign_in, signed_in  # noqa: F401
