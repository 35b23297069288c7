"""The B2B partners an atom serves, and the overdue-acknowledgement check it runs by itself.

Partners are components inside each deployed package; the atom reads them from
the active deployments. The control loop asks for overdue acknowledgements once
a minute: each overdue interchange is claimed in the store before its partner is
told, so several atoms on one store never notify twice.
"""

from __future__ import annotations

import logging

from atomnb.atom.deployer import Deployer
from atomnb.b2b.reconcile import notify_overdue
from atomnb.components.partners import Partner, list_partners, load_partner
from atomnb.errors import AtomnbError
from atomnb.store import ExecutionStore
from atomnb.store.b2b import B2BStore

__all__ = ["deployed_partners", "notify_overdue_now"]

log = logging.getLogger(__name__)


def deployed_partners(deployer: Deployer) -> list[Partner]:
    """The partner components of every active deployment (the first of a name wins)."""
    found: dict[str, Partner] = {}
    for deployment in deployer.deployments.all_active():
        try:
            workspace = deployer.workspace_of(deployment)
            for name in list_partners(workspace):
                if name not in found:
                    found[name] = load_partner(name, workspace, deployment.environment)
        except AtomnbError as exc:  # one bad package must not hide the others' partners
            log.warning("partners of %s not read: %s", deployment.process, exc.message)
    return list(found.values())


def notify_overdue_now(store: ExecutionStore, deployer: Deployer) -> int:
    """One overdue check: how many overdue interchanges were notified now."""
    b2b = B2BStore(store)
    if not b2b.overdue():
        return 0  # nothing late: the partners' packages are not read
    return len(notify_overdue(b2b, deployed_partners(deployer)))
