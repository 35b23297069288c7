"""Every error a user can cause, in one tree, split by what the caller does next.

::

    AtomnbError                      anything atomnb raises on purpose
    ├── ConfigError                  workspace, environment extension or CLI usage is wrong
    │   └── WorkspaceNotFoundError   no atomnb.toml above the current folder
    ├── ComponentError               a component file is missing or unreadable
    ├── NotebookError                a process notebook is missing, corrupt or incomplete
    │   └── ParameterError           a runtime parameter is unknown or of the wrong type
    ├── ProfileError                 a profile is invalid or does not fit the documents
    ├── FormatError                  bytes do not read as the format says (file, line)
    ├── DocumentError                one document failed; the rest of the batch goes on (skippable)
    ├── MapError                     a map is invalid or failed as a whole
    ├── ConnectorError               a system could not be reached or refused
    │   ├── RetriableConnectorError  transient: retry with backoff
    │   └── FatalConnectorError      permanent: do not retry
    ├── ProcessError                 the process run must stop
    ├── StoreError                   the execution store cannot be opened or written
    │   └── NotFoundError            no execution (or other record) with that id
    ├── AtomError                    an atom refused a request or cannot be reached
    │   ├── UnknownEntityError       no such process, deployment or output on the atom
    │   ├── AtomUnavailableError     the atom is stopping or cannot be reached: try later
    │   └── PayloadTooLargeError     a package or message is over the atom's size limit
    └── ValidationErrorGroup         every problem of a batch at once (also an ExceptionGroup)

Library errors (pyarrow, SQLAlchemy, papermill) are translated at the boundary into
these, so a user never has to read a traceback from a layer they did not call.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AtomError",
    "AtomUnavailableError",
    "AtomnbError",
    "ComponentError",
    "ConfigError",
    "ConnectorError",
    "DocumentError",
    "ExecutionError",
    "FatalConnectorError",
    "FormatError",
    "MapError",
    "NotFoundError",
    "NotebookError",
    "ParameterError",
    "PayloadTooLargeError",
    "ProcessError",
    "ProfileError",
    "RetriableConnectorError",
    "StoreError",
    "UnknownEntityError",
    "ValidationErrorGroup",
    "WorkspaceNotFoundError",
]


class AtomnbError(Exception):
    """Root of the tree: catching it catches every error atomnb raises on purpose.

    The message says what was wrong; ``where`` (file, document, line, path) and
    ``hint`` (what to do) are kept as attributes too, so tools can show them apart.
    """

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self._compose())

    def _compose(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text = f"{text}\n  hint: {self.hint}"
        return text


class ConfigError(AtomnbError):
    """The workspace, an environment extension or a command's options are wrong."""


class WorkspaceNotFoundError(ConfigError):
    """No ``atomnb.toml`` was found in the folder or any of its parents."""


class ComponentError(AtomnbError):
    """A component file is missing, unreadable or of an unknown engine version."""


class NotebookError(AtomnbError):
    """A process notebook is missing, not valid JSON/nbformat, or lacks what a run needs."""


class ParameterError(NotebookError):
    """A runtime parameter is unknown to the notebook or cannot take the given value."""


class ProfileError(AtomnbError):
    """A profile is invalid, or documents do not fit it as a whole."""


class FormatError(AtomnbError):
    """Bytes could not be read or written as the format says.

    ``where`` names the file and, when known, the document index, line and column.
    """


class DocumentError(AtomnbError):
    """One document failed; skippable, so the rest of its batch still goes through."""

    def __init__(
        self,
        message: str,
        *,
        document: int | None = None,
        path: str | None = None,
        rule: str | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.document = document
        self.path = path
        self.rule = rule
        parts = [where] if where else []
        if document is not None:
            parts.append(f"document {document}")
        if path:
            parts.append(path)
        if rule:
            parts.append(f"rule {rule}")
        super().__init__(message, where=", ".join(parts) or None, hint=hint)


class MapError(AtomnbError):
    """A map is invalid (unknown path, wrong arity, type mismatch) or failed as a whole."""


class ConnectorError(AtomnbError):
    """A system could not be reached, or it refused the request."""


class RetriableConnectorError(ConnectorError):
    """A transient fault (connection reset, 429, 5xx): the caller may retry with backoff."""


class FatalConnectorError(ConnectorError):
    """A permanent fault (401, 404, constraint violation): retrying will not help."""


class ProcessError(AtomnbError):
    """The process must stop: an exception shape fired or a run could not start."""


class StoreError(AtomnbError):
    """The execution store cannot be opened, migrated or written."""


class ExecutionError(AtomnbError):
    """A kernel could not be started or set up for an execution."""


class AtomError(AtomnbError):
    """An atom refused a request (unknown process, bad deployment) or cannot be reached."""


class NotFoundError(StoreError):
    """No record with that id (or id prefix) is in the store: the API answers 404."""


class UnknownEntityError(AtomError):
    """The atom has no such process, deployment or output: the API answers 404."""


class AtomUnavailableError(AtomError):
    """The atom is stopping (or cannot be reached): try again later; the API answers 503."""


class PayloadTooLargeError(AtomError):
    """A deployment package or listener message is over the atom's limit: the API answers 413."""


class ValidationErrorGroup(ExceptionGroup[AtomnbError], AtomnbError):  # type: ignore[override]
    """All problems found in a batch, never just the first.

    An ``ExceptionGroup`` so ``except*`` works; also an ``AtomnbError`` so one
    ``except AtomnbError`` still catches everything atomnb raises.
    """

    def __new__(cls, message: str, errors: Sequence[AtomnbError]) -> ValidationErrorGroup:
        return super().__new__(cls, message, list(errors))

    def __init__(self, message: str, errors: Sequence[AtomnbError]) -> None:
        # ExceptionGroup keeps the message (read-only) and members; AtomnbError's other
        # attributes are set by hand because its __init__ would replace the group's arguments.
        self.where = None
        self.hint = None

    def __str__(self) -> str:
        lines = [f"{self.message} ({len(self.exceptions)} problem(s))"]
        lines += [f"  - {err}" for err in self.exceptions]
        return "\n".join(lines)

    def derive(self, excs: Sequence[AtomnbError]) -> ValidationErrorGroup:  # type: ignore[override]
        return ValidationErrorGroup(self.message, excs)
