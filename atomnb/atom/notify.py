"""Notifications: tell someone when a process fails (and, if asked, when it succeeds).

A deployment's ``notify`` settings name a webhook (a JSON POST) and/or email
addresses (sent through the atom's SMTP settings) and the events that trigger
them: ``failure`` by default, ``success`` on request. The message is the
execution's summary — never parameters' secret values, which the record does
not hold — and a link to the execution on the atom. Sending happens on a
background thread and never fails an execution; problems are logged.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx

from atomnb.components import resolve_secret
from atomnb.errors import AtomnbError, ConfigError
from atomnb.store import ExecutionRecord, ExecutionStatus

__all__ = ["Notifier", "check_notify", "drift_summary", "summary"]

log = logging.getLogger(__name__)

_EVENTS = ("failure", "success")
_FAILED = (ExecutionStatus.FAILED, ExecutionStatus.INTERRUPTED)


def check_notify(config: Mapping[str, Any]) -> None:
    """Refuse notification settings that could never be delivered."""
    unknown = set(config) - {"on", "webhook", "email"}
    if unknown:
        raise ConfigError(f"unknown notification settings: {', '.join(sorted(unknown))}")
    events = config.get("on", ["failure"])
    if not isinstance(events, list) or not set(events) <= set(_EVENTS):
        raise ConfigError(f"notify.on must be a list of {', '.join(_EVENTS)}")
    webhook = config.get("webhook")
    if webhook is not None and urlsplit(str(webhook)).scheme not in ("http", "https"):
        raise ConfigError(f"the notification webhook must be an http(s) URL, not {webhook!r}")
    emails = config.get("email", [])
    if not isinstance(emails, list) or not all(isinstance(e, str) and "@" in e for e in emails):
        raise ConfigError("notify.email must be a list of email addresses")


def summary(record: ExecutionRecord, link: str | None) -> dict[str, Any]:
    """What a notification says about an execution: metadata only."""
    return {
        "event": "success" if record.status.ok else "failure",
        "execution": {
            "id": record.id,
            "process": record.process,
            "environment": record.environment,
            "status": record.status.value,
            "trigger": record.trigger.value,
            "attempt": record.attempt,
            "started_at": record.started_at.isoformat() if record.started_at else None,
            "ended_at": record.ended_at.isoformat() if record.ended_at else None,
            "duration_s": record.duration_s,
            "error": record.error_summary,
        },
        "link": link,
    }


def drift_summary(
    record: ExecutionRecord, reports: list[dict[str, Any]], link: str | None
) -> dict[str, Any]:
    """A ``drift`` notification: the execution's summary and its drift, paths and counts only
    (the process's policy ``atomnb.drift: notify``, see ``atomnb.process.drift``)."""
    message = summary(record, link)
    message["event"] = "drift"
    message["drift"] = reports
    return message


class Notifier:
    """Sends notifications for finished executions on one background thread."""

    def __init__(self, smtp: Mapping[str, Any] | None = None, base_url: str | None = None) -> None:
        self.smtp = dict(smtp or {})
        self.base_url = base_url.rstrip("/") if base_url else None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atomnb-notify")

    def finished(self, record: ExecutionRecord, config: Mapping[str, Any]) -> Future[None] | None:
        """Queue the notifications ``config`` asks for about ``record``, if any."""
        if not config or record.status is ExecutionStatus.CANCELLED:
            return None
        event = "success" if record.status.ok else "failure" if record.status in _FAILED else None
        if event is None or event not in config.get("on", ["failure"]):
            return None
        link = f"{self.base_url}/executions/{record.id}" if self.base_url else None
        return self._pool.submit(self._send, summary(record, link), dict(config))

    def drifted(
        self, record: ExecutionRecord, config: Mapping[str, Any], reports: list[dict[str, Any]]
    ) -> Future[None] | None:
        """Queue a ``drift`` notification to ``config``'s webhook / email, whatever its ``on``
        says: the process asked for it (its drift policy), the deployment says where to."""
        if not reports or not (config.get("webhook") or config.get("email")):
            return None
        link = f"{self.base_url}/executions/{record.id}" if self.base_url else None
        return self._pool.submit(self._send, drift_summary(record, reports, link), dict(config))

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _send(self, message: dict[str, Any], config: dict[str, Any]) -> None:
        if config.get("webhook"):
            self._webhook(str(config["webhook"]), message)
        if config.get("email"):
            self._email(list(config["email"]), message)

    @staticmethod
    def _webhook(url: str, message: dict[str, Any]) -> None:
        shown = urlsplit(url)._replace(query="", fragment="").geturl()  # tokens stay out of logs
        try:
            response = httpx.post(url, json=message, timeout=10)
            if response.status_code >= 400:
                log.warning("webhook %s answered %s", shown, response.status_code)
        except httpx.HTTPError as exc:
            log.warning("webhook %s failed: %s", shown, type(exc).__name__)

    def _email(self, recipients: list[str], message: dict[str, Any]) -> None:
        if not self.smtp.get("host"):
            log.warning("email notification skipped: no [settings.smtp] host in atom.toml")
            return
        execution = message["execution"]
        mail = EmailMessage()
        what = "profile drift" if message.get("event") == "drift" else execution["status"]
        mail["Subject"] = f"[atomnb] {execution['process']} {what} ({execution['id']})"
        mail["From"] = str(self.smtp.get("sender", "atomnb@localhost"))
        mail["To"] = ", ".join(recipients)
        lines = [f"{k}: {v}" for k, v in execution.items() if v is not None]
        for report in message.get("drift", []):  # paths and counts only
            lines += _drift_lines(report)
        if message.get("link"):
            lines.append(f"link: {message['link']}")
        mail.set_content("\n".join(lines) + "\n")
        try:
            with smtplib.SMTP(
                str(self.smtp["host"]), int(self.smtp.get("port", 25)), timeout=10
            ) as client:
                if self.smtp.get("starttls"):
                    client.starttls()
                if self.smtp.get("username"):
                    password = resolve_secret(str(self.smtp.get("password", "")), name="smtp")
                    client.login(str(self.smtp["username"]), password)
                client.send_message(mail)
        except (OSError, smtplib.SMTPException, AtomnbError) as exc:
            log.warning("email notification failed: %s", type(exc).__name__)


def _drift_lines(report: Mapping[str, Any]) -> list[str]:
    lines = [f"profile drift: {report.get('profile')} ({report.get('documents')} document(s))"]
    for key in ("new_fields", "off_type", "missing_mandatory"):
        for path, count in dict(report.get(key) or {}).items():
            lines.append(f"  {key.replace('_', ' ')}: {path} in {count}")
    for path, codes in dict(report.get("new_codes") or {}).items():
        lines.append(f"  new codes: {path} in {codes.get('documents')}")
    return lines
