"""A browser context that stays on this machine."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Route

from support.live import LOCAL

# Any name Chromium would look up (a WebSocket to Twilio, say) is not found: page.route sees
# HTTP only, so this keeps whatever else the page opens on this machine too.
NO_NAMES = f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {LOCAL}"


def keep_local(context: BrowserContext) -> list[str]:
    """Abort every request the context makes to a host other than 127.0.0.1; return the
    list the aborted URLs are added to."""
    aborted: list[str] = []

    def route(route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOCAL:
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return aborted
