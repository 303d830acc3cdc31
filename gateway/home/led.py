"""What the status light shows, decided from the last LED action and the uplink (pure, time injected)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from gateway.model import LedState

# (seconds on, seconds off); None: steady. Told apart at a glance, even by poor eyes.
PATTERNS: dict[LedState, tuple[float, float] | None] = {
    LedState.HELP_COMING: None,  # steady on
    LedState.ALARM_SENT: (1.0, 1.0),  # slow blink
    LedState.ASKING: (0.2, 0.2),  # fast blink: press the button
    LedState.OFFLINE: (0.1, 2.9),  # a short flash every 3 s
}
# How long a state lasts without news: the gateway is not told when help has arrived.
HOLD_S: dict[LedState, float] = {LedState.ASKING: 300.0, LedState.ALARM_SENT: 3600.0, LedState.HELP_COMING: 3600.0}


@dataclass(frozen=True, slots=True)
class Light:
    """The alarm state last asked for and since when; since when the uplink has been down."""

    state: LedState = LedState.OFF
    since: float = 0.0
    down_since: float | None = None


def ask(light: Light, state: LedState, now: float) -> Light:
    """An `led` action arrived."""
    return replace(light, state=LedState.OFF if state == LedState.OFFLINE else state, since=now)


def uplink(light: Light, up: bool, now: float) -> Light:
    """The gateway's link to the server is up or down now."""
    if up:
        return replace(light, down_since=None)
    return light if light.down_since is not None else replace(light, down_since=now)


def shown(light: Light, now: float, offline_after_s: float) -> LedState:
    """An alarm in progress first; else "offline" once the uplink has been down long enough; else off."""
    hold = HOLD_S.get(light.state)
    if hold is not None and now - light.since < hold:
        return light.state
    if light.down_since is not None and now - light.down_since >= offline_after_s:
        return LedState.OFFLINE
    return LedState.OFF
