"""APIs are deployed with the processes they route to: checked first, recorded once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from atomnb.atom.deployer import Deployer, DeployOptions
from atomnb.atom.home import AtomHome
from atomnb.atom.package import build_package
from atomnb.components import Workspace
from atomnb.errors import ComponentError
from atomnb.profiles import Element, ElementType, Profile, save_profile
from atomnb.store import ExecutionStore
from atomnb.store.apikeys import ApiStore
from tests.conftest import make_notebook


def _api(ws: Workspace, name: str, process: str, profile: str) -> Path:
    path = ws.components_dir / "apis" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "auth": {"type": "api_key"},
        "routes": [{"method": "POST", "path": "/in", "process": process,
                    "request": {"profile": profile}}],
    }  # fmt: skip
    path.write_text(yaml.safe_dump({"kind": "api", "name": name, "body": body}), encoding="utf-8")
    return path


def test_an_api_deploys_with_its_process_and_a_bad_one_refuses_the_deployment(
    tmp_path: Path, workspace: Workspace
) -> None:
    make_notebook(workspace.notebooks_dir / "p.ipynb", "print(1)", parameters="x = 1")
    make_notebook(workspace.notebooks_dir / "q.ipynb", "print(2)", parameters="x = 1")
    save_profile(
        Profile("doc", (Element("id", ElementType.STRING, sample="A-1"),)), workspace=workspace
    )
    _api(workspace, "for_p", "p", "doc")
    _api(workspace, "for_q", "q", "no_such_profile")
    home = AtomHome(tmp_path / "home")
    store = ExecutionStore.open(home.store_url)
    deployer = Deployer(home, store)
    apis = ApiStore(store)
    try:
        package = build_package(workspace.notebooks_dir / "p.ipynb").data
        deployer.deploy(package, DeployOptions("notebooks/p.ipynb"))
        [deployed] = apis.all()  # only the API routing to p; for_q is q's business
        assert (deployed.name, deployed.version, deployed.process) == ("for_p", 1, "p")
        assert deployed.definition["profiles"]["doc"]["elements"][0]["sample"] == "A-1"
        deployer.deploy(package, DeployOptions("notebooks/p.ipynb"))  # unchanged: same version
        assert [a.version for a in apis.all()] == [1]

        with pytest.raises(ComponentError, match="no_such_profile") as caught:
            deployer.deploy(
                build_package(workspace.notebooks_dir / "q.ipynb").data,
                DeployOptions("notebooks/q.ipynb"),
            )
        assert str(caught.value.where).endswith("components/apis/for_q.yaml")
        assert deployer.deployments.active("q") is None  # nothing recorded
        assert [a.name for a in apis.all()] == ["for_p"]
    finally:
        store.close()


def test_a_rollback_brings_back_the_api_its_version_had(
    tmp_path: Path, workspace: Workspace
) -> None:
    make_notebook(workspace.notebooks_dir / "p.ipynb", "print(1)", parameters="x = 1")
    save_profile(Profile("doc", (Element("id", ElementType.STRING),)), workspace=workspace)
    api_file = _api(workspace, "for_p", "p", "doc")
    home = AtomHome(tmp_path / "home")
    store = ExecutionStore.open(home.store_url)
    deployer = Deployer(home, store)
    apis = ApiStore(store)

    def route_path() -> str:
        deployed = apis.get("for_p")
        assert deployed is not None
        return str(deployed.definition["body"]["routes"][0]["path"])

    try:
        notebook = workspace.notebooks_dir / "p.ipynb"
        deployer.deploy(build_package(notebook).data, DeployOptions("notebooks/p.ipynb"))
        assert route_path() == "/in"
        api_file.write_text(api_file.read_text().replace("/in", "/orders"), encoding="utf-8")
        make_notebook(notebook, "print(2)", parameters="x = 1")
        deployer.deploy(build_package(notebook).data, DeployOptions("notebooks/p.ipynb"))
        assert route_path() == "/orders"
        active, changed, before = deployer.rollback("p")
        assert (active.version, changed, before) == (1, True, 2)
        assert route_path() == "/in"  # the API as version 1 of the process had it
    finally:
        store.close()
