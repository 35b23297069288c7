"""AS2 on the atom: partners post messages to ``/as2/<partner>`` and MDNs to ``/as2/<partner>/mdn``.

No API token: the partner is authenticated by the message's signature, checked
against the certificate in their partner component (the guard lets ``/as2/``
through, as it lets the API gateway's ``/apis/``). The partner component is
found in the deployed processes: the active deployment whose workspace has
``components/partners/<partner>.yaml`` with ``as2.process`` naming it runs the
messages, with that deployment's environment overrides.

A message is decrypted and verified first. A good one becomes one unparsed
document (its payload; properties ``file_name``, ``as2_message_id``,
``as2_from``, ``as2_to``, ``content_type``) stored with a new execution of that
process, exactly like a listener's, and the MDN says ``processed`` — it
acknowledges receipt, so it does not wait for the run. A bad one (does not
decrypt, signature does not verify, unsigned when signing is required, sent
before) gets a negative MDN with the reason and runs nothing. A synchronous MDN
is the answer; an asynchronous one is posted to the partner's
``Receipt-Delivery-Option`` URL after the answer, tried again with growing waits
when the partner's URL fails (``as2.mdn_attempts``, default 5; ``as2.mdn_backoff_s``,
default 2 s, doubled each time), the outcome kept in the message's ``detail``.
Every message is a row of
``as2_messages`` (``atomnb.b2b.as2.records``) naming its execution.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from atomnb.atom.api.bodies import read_limited
from atomnb.atom.service import Atom
from atomnb.b2b.as2.deliver import deliver_mdn, retry_settings
from atomnb.b2b.as2.exchange import Received, parse_mdn, receive_message
from atomnb.b2b.as2.link import As2Link, load_link
from atomnb.b2b.as2.records import As2Message, As2Records
from atomnb.components.certificates import (
    CertificateExpiryWarning,
    list_certificates,
    load_certificate,
)
from atomnb.components.partners import load_partner
from atomnb.errors import AtomnbError, UnknownEntityError
from atomnb.process.shapes.data import raw_documents
from atomnb.store.deployments import Deployment

__all__ = ["add_as2_routes", "check_certificates"]

log = logging.getLogger("atomnb.atom.as2")


def add_as2_routes(app: FastAPI, atom: Atom) -> None:
    settings = atom.settings
    records = As2Records(atom.store)
    check_certificates(atom)

    @app.post(
        "/as2/{partner}",
        summary="Receive an AS2 message from a partner (answered with its MDN)",
        responses={200: {"description": "the MDN (synchronous), or empty (asynchronous)"}},
    )
    async def receive(partner: str, request: Request) -> Response:
        link, deployment = await run_in_threadpool(_inbound_link, atom, partner)
        body = await read_limited(request, settings.listen_max_bytes, "the AS2 message")
        headers = dict(request.headers)
        received = await run_in_threadpool(
            receive_message,
            link,
            headers,
            body,
            seen=lambda message_id: records.get(message_id, "in") is not None,
        )
        execution_id = None
        if received.ok:
            execution_id = await run_in_threadpool(_run, atom, deployment, received, link)
        await run_in_threadpool(_record, records, link, received, execution_id)
        if received.mdn_mode == "async" and received.mdn_url:
            _post_later(received, link, records)
        answer = {"X-Atomnb-As2-Status": received.status}
        if execution_id:
            answer["X-Atomnb-Execution"] = execution_id
        if received.mdn_mode == "sync":
            return Response(received.mdn_body, headers={**received.mdn_headers, **answer})
        return Response(status_code=200, headers=answer)

    @app.get(
        "/api/as2/messages",
        summary="AS2 messages sent and received, with their MDN outcome and execution",
    )
    async def messages(execution_id: str | None = None, message_id: str | None = None) -> Response:
        def find() -> list[dict[str, object]]:
            if message_id is not None:
                rows = [records.get(message_id, d) for d in ("out", "in")]
                return [r.as_dict() for r in rows if r is not None]
            if execution_id is not None:
                return [r.as_dict() for r in records.for_execution(execution_id)]
            return []

        return JSONResponse({"messages": await run_in_threadpool(find)})

    @app.post(
        "/as2/{partner}/mdn",
        summary="Receive a partner's asynchronous MDN for a message we sent",
    )
    async def receive_mdn(partner: str, request: Request) -> Response:
        link = await run_in_threadpool(_any_link, atom, partner)
        body = await read_limited(request, settings.listen_max_bytes, "the MDN")
        headers = dict(request.headers)

        def sent(message_id: str) -> tuple[bool, str | None]:
            row = records.get(message_id, "out")
            return row is not None and row.partner == partner, row.mic if row else None

        mdn = await run_in_threadpool(parse_mdn, link, headers, body, sent=sent)
        if mdn.original_message_id is None or records.get(mdn.original_message_id, "out") is None:
            return JSONResponse(
                {"error": f"no message {mdn.original_message_id!r} was sent to {partner}"},
                status_code=404,
            )
        await run_in_threadpool(
            records.set_outcome,
            mdn.original_message_id,
            "out",
            mdn.status,
            mdn.detail,
            mdn_message_id=mdn.message_id,
        )
        log.info("AS2 MDN from %s for %s: %s", partner, mdn.original_message_id, mdn.status)
        return JSONResponse({"message_id": mdn.original_message_id, "status": mdn.status})


def _deployments_with(atom: Atom, partner: str) -> list[tuple[Deployment, Path]]:
    found = []
    for deployment in atom.deployer.deployments.all_active():
        try:
            ws = atom.deployer.workspace_of(deployment)
        except AtomnbError:
            continue
        if (ws.components_dir / "partners" / f"{partner}.yaml").is_file():
            found.append((deployment, ws.root))
    return found


def _inbound_link(atom: Atom, partner: str) -> tuple[As2Link, Deployment]:
    """The partner's AS2 link and the deployment that runs their messages (404 otherwise)."""
    problem: AtomnbError | None = None
    for deployment, root in _deployments_with(atom, partner):
        try:  # which deployment runs them: read without certificates first
            settings = load_partner(partner, root, deployment.environment).as2
        except AtomnbError as exc:  # another process's copy may be broken: not this one's fault
            problem = problem or exc
            continue
        if settings is not None and settings.extra.get("process") == deployment.process:
            return _load(partner, root, deployment), deployment
    if problem is not None:
        raise problem
    raise UnknownEntityError(
        f"no deployed process receives AS2 messages from {partner!r}",
        hint="deploy a process whose workspace has components/partners/"
        f"{partner}.yaml with as2.process naming it",
    )


def _any_link(atom: Atom, partner: str) -> As2Link:
    for deployment, root in _deployments_with(atom, partner):
        return _load(partner, root, deployment)
    raise UnknownEntityError(f"no deployed process knows the partner {partner!r}")


def _load(partner: str, root: Path, deployment: Deployment) -> As2Link:
    """The link, its certificates' expiry warnings logged (an expired one is refused: 400)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CertificateExpiryWarning)
        link = load_link(partner, root, deployment.environment)
    for warning in caught:
        log.warning("AS2 %s: %s", partner, warning.message)
    return link


def _run(atom: Atom, deployment: Deployment, received: Received, link: As2Link) -> str:
    """Queue the deployment's process on the payload (stored first, as a listener's)."""
    documents = raw_documents(
        [received.payload],
        properties={
            "file_name": [received.file_name],
            "as2_message_id": [received.message_id],
            "as2_from": [link.settings.as2_id],
            "as2_to": [link.settings.our_as2_id],
            "content_type": [received.content_type],
        },
    )
    # timeout 0: queued (checked, documents stored) and not waited for; the MDN confirms receipt
    record, _ = atom.listen(deployment.process, documents, timeout_s=0.0)
    return record.id


def _record(
    records: As2Records, link: As2Link, received: Received, execution_id: str | None
) -> None:
    if received.message_id is None:
        return
    detail = received.detail
    if not received.ok:
        log.warning(
            "AS2 message %s from %s refused: %s (%s)",
            received.message_id,
            link.partner,
            received.detail,
            received.error,
        )
    records.add(
        As2Message(
            message_id=received.message_id,
            direction="in",
            partner=link.partner,
            execution_id=execution_id,
            mic=received.mic,
            mic_alg=None,
            mdn_mode=received.mdn_mode,
            status="processed" if received.ok else received.status,
            detail=detail,
        )
    )


def _post_later(received: Received, link: As2Link, records: As2Records) -> None:
    """Post an asynchronous MDN after the answer has gone (a thread: the caller does not wait),
    again with growing waits when it fails; the outcome goes to the message's row."""
    url = received.mdn_url
    assert url is not None
    attempts, backoff_s = retry_settings(link.settings.extra)

    def post() -> None:
        delivery = deliver_mdn(
            url,
            received.mdn_body,
            received.mdn_headers,
            timeout_s=link.timeout_s,
            attempts=attempts,
            backoff_s=backoff_s,
        )
        level = logging.INFO if delivery.delivered else logging.WARNING
        log.log(level, "AS2 MDN for %s to %s: %s", received.message_id, url, delivery.describe())
        if received.message_id is None:
            return
        status = "processed" if received.ok else received.status
        detail = "; ".join(d for d in (received.detail, delivery.describe()) if d)
        try:
            records.set_outcome(received.message_id, "in", status, detail)
        except AtomnbError as exc:
            log.warning("AS2 MDN outcome for %s not recorded: %s", received.message_id, exc)

    threading.Thread(target=post, name="atomnb-as2-mdn", daemon=True).start()


def check_certificates(atom: Atom) -> list[str]:
    """Log every deployed certificate that has expired or ends within 30 days (at start)."""
    said: list[str] = []
    seen: set[Path] = set()
    for deployment in atom.deployer.deployments.all_active():
        try:
            ws = atom.deployer.workspace_of(deployment)
        except AtomnbError:
            continue
        if ws.root in seen:
            continue
        seen.add(ws.root)
        for name in list_certificates(ws):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", CertificateExpiryWarning)
                try:
                    load_certificate(name, ws)
                except AtomnbError as exc:
                    said.append(str(exc))
                    log.error("certificate of %s: %s", deployment.process, exc)
            for warning in caught:
                said.append(str(warning.message))
                log.warning("certificate of %s: %s", deployment.process, warning.message)
    return said
