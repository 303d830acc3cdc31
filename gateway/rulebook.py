"""The rules in force on this gateway: engine, pushed version and state, kept across restarts."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from anxin import reminders_document as schedule
from anxin.rules_document import RulesConfigError
from gateway.errors import OutboxError
from gateway.model import Alarm
from gateway.outbox import Outbox
from gateway.reminders.rule import ReminderRule
from gateway.rules import push
from gateway.rules.engine import Decision, Engine, Input, RetiringRule

log = logging.getLogger(__name__)

REMINDERS_META = "reminders_config"  # outbox meta key: the applied reminders document and its version


class RuleBook:
    """Used only from the worker thread; the rules stay pure, the persistence happens here."""

    def __init__(
        self, engine: Engine, outbox: Outbox, timezone: str, resident: str | None, counters: Counter[str]
    ) -> None:
        self.engine = engine
        self.base = engine  # the rules document's engine; the reminders rule is composed onto it
        self.reminders: ReminderRule | None = None
        self.reminders_version = 0
        self.state: Mapping[str, Any] = engine.initial()
        self.version = 0  # 0: the rules from the settings file; pushed versions start at 1
        self.outbox = outbox
        self.timezone = timezone
        self.resident = resident
        self.counters = counters
        self._persistent: tuple[Engine, tuple[str, ...]] | None = None

    def persistent(self) -> tuple[str, ...]:
        """The current engine's persistent rules, found once per engine: an isinstance() check against a
        runtime-checkable Protocol costs microseconds, and this runs for every reading (issue 24)."""
        if self._persistent is None or self._persistent[0] is not self.engine:
            self._persistent = (self.engine, self.engine.persistent())
        return self._persistent[1]

    def evaluate(self, item: Input, now: datetime) -> Decision:
        """Run the rules on one input; persist learned state when it changed."""
        decision = self.engine.evaluate(self.state, item, now)
        self.state = decision.state
        for name, exc in decision.failed:
            self.counters["rule_errors"] += 1
            log.error("rule %s failed on %s, its state kept: %r", name, type(item).__name__, exc, exc_info=exc)
        if decision.changed:
            persistent = self.persistent()
            if any(name in persistent for name in decision.changed):
                self.save_state()
        return decision

    def apply(self, args: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any], list[Alarm]]:
        """Validate a pushed configuration, persist it, swap it in; the report for the server, and the
        alarms of rules it switched off that had one pending (raised now rather than forgotten)."""
        try:
            accepted = push.accept(args, self.version, self.timezone, self.resident)
            self.outbox.set_meta(push.META_CONFIG, accepted.stored())
        except (RulesConfigError, OutboxError, sqlite3.Error) as exc:
            self.counters["rules_rejected"] += 1
            log.warning(
                "rules configuration version %r rejected, keeping version %d: %s",
                args.get("version"),
                self.version,
                exc,
            )
            return push.report("config_rejected", args.get("version"), str(exc)), []
        kept = {rule.name for rule in accepted.engine.rules}
        retired = [
            alarm
            for rule in self.engine.rules
            if rule.name not in kept and isinstance(rule, RetiringRule)
            for alarm in rule.retire(self.state.get(rule.name, rule.initial()), now)
        ]
        # One assignment on the only thread that evaluates: the swap is atomic; learned state is kept.
        self.base = accepted.engine
        engine = self._compose()
        self.state, self.engine = engine.adopt(self.state), engine
        self.version = accepted.version
        self.counters["rules_applied"] += 1
        log.info("rules configuration version %d applied", accepted.version)
        return push.report("config_applied", accepted.version), retired

    def restore(self) -> None:
        """At start: the last pushed configuration and the persistent rule state, when valid."""
        raw = self.outbox.get_meta(push.META_CONFIG)
        if raw:
            try:
                accepted = push.load_stored(raw, self.timezone, self.resident)
                self.engine, self.version = accepted.engine, accepted.version
            except RulesConfigError as exc:
                log.error("ignoring the stored rules configuration, using the file's: %s", exc)
        self.base = self.engine
        self._restore_reminders()
        self.engine = self._compose()
        self.state = self.engine.initial()
        saved = self.outbox.get_meta(push.META_STATE)
        if not saved:
            return
        try:
            self.state, failed = self.engine.restore(self.state, json.loads(saved))
        except ValueError as exc:
            failed = [str(exc)]
        if failed:
            log.error("could not restore rule state %s; starting those rules afresh", failed)

    def apply_reminders(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Validate, persist and swap in a pushed reminders document; the report for the server."""
        try:
            doc = schedule.parse(args)
            if doc.version < self.reminders_version:
                raise schedule.RemindersError(
                    f"version {doc.version} is older than the applied version {self.reminders_version}"
                )
            self.outbox.set_meta(REMINDERS_META, doc.model_dump_json())
        except (schedule.RemindersError, OutboxError, sqlite3.Error) as exc:
            self.counters["reminders_rejected"] += 1
            log.warning(
                "reminders version %r rejected, keeping version %d: %s",
                args.get("version"),
                self.reminders_version,
                exc,
            )
            return push.report("reminders_rejected", args.get("version"), str(exc))
        self.reminders, self.reminders_version = self._reminder_rule(doc), doc.version
        engine = self._compose()
        self.state, self.engine = engine.adopt(self.state), engine
        log.info("reminders version %d applied: %d reminder(s)", doc.version, len(doc.reminders))
        return push.report("reminders_applied", doc.version)

    def _reminder_rule(self, doc: schedule.RemindersDoc) -> ReminderRule | None:
        return ReminderRule(tuple(doc.reminders), ZoneInfo(self.timezone)) if doc.reminders else None

    def _restore_reminders(self) -> None:
        raw = self.outbox.get_meta(REMINDERS_META)
        if not raw:
            return
        try:
            doc = schedule.parse(json.loads(raw))
        except (ValueError, schedule.RemindersError) as exc:
            log.error("ignoring the stored reminders, none are said until the server pushes them again: %s", exc)
            return
        self.reminders, self.reminders_version = self._reminder_rule(doc), doc.version

    def _compose(self) -> Engine:
        if self.reminders is None:
            return self.base
        return Engine((*self.base.rules, self.reminders), self.base.damper)

    def save_state(self) -> None:
        """Persist learned rule state (it changes on activity, a few times a minute at most)."""
        try:
            self.outbox.set_meta(push.META_STATE, json.dumps(self.engine.snapshot(self.state)))
        except (OutboxError, sqlite3.Error) as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not persist rule state: %s", exc)
