"""The house rules of a public project: the licence, publiccode.yml, one version
everywhere, and the Python dependencies locked with hashes and installed from the lock."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

import xmpp_plugin

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def publiccode() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "publiccode.yml").read_text())  # type: ignore[no-any-return]


def test_the_licence_is_the_full_eupl_1_2_everywhere(publiccode: dict[str, Any]) -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2")
    articles = re.findall(r"^(\d+)\.\s?[A-Z]", text, flags=re.M)
    assert articles == [str(n) for n in range(1, 16)]          # all fifteen articles
    assert "‘Compatible Licences’ according to Article 5 EUPL are:" in text
    assert "European Union Public Licence (EUPL) v. 1.1, v. 1.2" in text
    assert len(text) > 13000                                    # not an abridged notice
    assert PYPROJECT["project"]["license"]["text"] == "EUPL-1.2"
    assert json.loads((ROOT / "web" / "package.json").read_text())["license"] == "EUPL-1.2"
    assert publiccode["legal"]["license"] == "EUPL-1.2"


# publiccode.yml standard (core schema): the keys it requires and its value lists.
REQUIRED = ["publiccodeYmlVersion", "name", "url", "platforms", "categories",
            "developmentStatus", "softwareType", "description", "legal", "maintenance",
            "localisation"]
DEVELOPMENT_STATUS = {"concept", "development", "beta", "stable", "obsolete"}
SOFTWARE_TYPE = {"standalone/mobile", "standalone/iot", "standalone/desktop", "standalone/web",
                 "standalone/backend", "standalone/other", "addon", "library", "configurationFiles"}
MAINTENANCE_TYPE = {"internal", "contract", "community", "none"}
CATEGORIES = set("""accounting agile-project-management applicant-tracking application-development
appointment-scheduling backup billing-and-invoicing blog budgeting business-intelligence
business-process-management cad call-center-management cloud-management collaboration
communications compliance-management contact-management content-management crm
customer-service-and-support data-analytics data-collection data-visualization design
design-system digital-asset-management digital-citizenship document-management
donor-management e-commerce e-signature educational-content email-management email-marketing
employee-management enterprise-project-management enterprise-social-networking erp
event-management facility-management feedback-and-reviews-management financial-reporting
fleet-management fundraising gamification geographic-information-systems grant-management
graphic-design help-desk hr ide identity-management instant-messaging inventory-management
it-asset-management it-development it-management it-security it-service-management
knowledge-management learning-management-system marketing mind-mapping mobile-marketing
mobile-payment network-management office online-booking online-community payment-gateway
payroll predictive-analysis procurement productivity-suite project-collaboration
project-management property-management real-estate-management remote-support
resource-management sales-management seo service-desk social-media-management survey
talent-management task-management taxes-management test-management time-management
time-tracking translation video-conferencing video-editing visitor-management voip
warehouse-management web-collaboration web-conferencing website-builder whistleblowing
workflow-management""".split())
SCOPES = set("""agriculture culture defence education emergency-services employment energy
environment finance-and-economic-development foreign-affairs healthcare infrastructures justice
local-authorities manufacturing research science-and-technology security society sport tourism
transportation welfare""".split())


def test_publiccode_has_every_required_key_and_valid_values(publiccode: dict[str, Any]) -> None:
    missing = [k for k in REQUIRED if k not in publiccode]
    assert not missing, missing
    assert re.fullmatch(r"0\.\d+(\.\d+)?", publiccode["publiccodeYmlVersion"])
    assert re.fullmatch(r"https://\S+", publiccode["url"])
    assert publiccode["developmentStatus"] in DEVELOPMENT_STATUS
    assert publiccode["softwareType"] in SOFTWARE_TYPE
    assert publiccode["categories"] and set(publiccode["categories"]) <= CATEGORIES
    assert set(publiccode["intendedAudience"]["scope"]) <= SCOPES
    assert publiccode["platforms"] == ["web"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", publiccode["releaseDate"])
    maintenance = publiccode["maintenance"]
    assert maintenance["type"] in MAINTENANCE_TYPE
    if maintenance["type"] in ("internal", "community"):
        assert maintenance["contacts"] and all(c.get("name") for c in maintenance["contacts"])
    loc = publiccode["localisation"]
    assert isinstance(loc["localisationReady"], bool) and loc["availableLanguages"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_publiccode_descriptions_fit_the_standard(publiccode: dict[str, Any], lang: str) -> None:
    d = publiccode["description"][lang]
    assert 0 < len(d["shortDescription"]) <= 150
    assert 150 <= len(d["longDescription"]) <= 10000
    assert d["features"]
    for shot in d.get("screenshots", []):
        assert (ROOT / shot).is_file(), shot


def test_one_version_everywhere(publiccode: dict[str, Any]) -> None:
    version = PYPROJECT["project"]["version"]
    assert xmpp_plugin.__version__ == version
    assert json.loads((ROOT / "web" / "package.json").read_text())["version"] == version
    assert publiccode["softwareVersion"] == version
    assert re.search(rf"^## \[{re.escape(version)}\]", (ROOT / "CHANGELOG.md").read_text(), flags=re.M)


def _lock() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from requirements.lock (pip-compile --generate-hashes)."""
    text = (ROOT / "requirements.lock").read_text().replace("\\\n", " ")
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)\s*(.*)$", line)
        if m:
            name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
            out[name] = (m.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", m.group(3)))
    return out


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    lock = _lock()
    assert "aiohttp" in lock and "pytest" in lock                 # the parser reads the file
    declared = [*PYPROJECT["project"]["dependencies"],
                *PYPROJECT["project"]["optional-dependencies"]["test"]]
    problems = []
    for spec in map(Requirement, declared):
        name = re.sub(r"[-_.]+", "-", spec.name).lower()
        if name not in lock:
            problems.append(f"{name} is not in requirements.lock")
        elif not spec.specifier.contains(lock[name][0], prereleases=True):
            problems.append(f"{name}=={lock[name][0]} does not satisfy {spec.specifier}")
    unhashed = [n for n, (_, hashes) in lock.items() if not hashes]
    assert not problems, "regenerate requirements.lock (CONTRIBUTING.md): " + "; ".join(problems)
    assert not unhashed, f"pinned without a hash: {unhashed}"


def test_setup_installs_from_the_lock_with_hashes() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "--require-hashes -r requirements.lock" in setup
    assert "--no-deps -e ." in setup
    assert "requirements.lock -nt .venv/.installed" in setup     # a new lock reinstalls
