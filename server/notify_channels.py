"""The channel side of a notification: one message through apprise, and whether apprise understands a URL.

One send is one fresh apprise plugin (`Apprise.instantiate`, ~0.14 ms) notified on the caller's thread.
`Apprise().add(url).notify()` costs ~0.3 ms more and hands the call to apprise's own worker thread (a
thread switch, waiting for the GIL under load); reusing a plugin object would save the 0.14 ms but apprise
then throttles the next send through it (5.5 s for most plugins' default `request_rate_per_sec`), which
would hold back a second alarm to the same caregiver. Measured in docs/performance.md "2. Alarm latency".
"""

from __future__ import annotations

from collections.abc import Callable

Send = Callable[[str, str, str], tuple[bool, str | None]]


def apprise_send(url: str, title: str, body: str) -> tuple[bool, str | None]:
    """Deliver one message through apprise; (ok, error)."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return False, "apprise does not understand this URL"
    ok = plugin.notify(body=body, title=title)
    return bool(ok), None if ok else "the channel refused or did not answer"


def url_understood(url: str) -> bool:
    """Whether apprise can build a notifier from the URL (it parses it; nothing is sent)."""
    import apprise

    return apprise.Apprise.instantiate(url) is not None


def load_plugins() -> None:
    """Make apprise load its plugins now, so the first alarm does not wait ~1 s for it."""
    import apprise

    apprise.Apprise().add("json://localhost/")
