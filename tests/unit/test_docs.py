"""The documents stay true to the code: settings defaults, problem types, the protocol's
XML names, the Redis keys, the tests the documents cite, and every link between them.

Each check reads both sides itself (the code by import or AST, the document by its
tables and examples); none relies on a list kept by hand in this file.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from component.protocol import stanza
from xmpp_plugin import errors
from xmpp_plugin.openapi import document
from xmpp_plugin.settings import Settings, setting_names
from xmpp_plugin.store import Keys

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PROTOCOL = ROOT / "docs" / "protocol.md"
DESIGN = ROOT / "docs" / "design.md"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the first Markdown table after ``heading`` (header and rule skipped)."""
    start = text.index(heading)
    rows: list[list[str]] = []
    lines = text[start:].splitlines()
    for line in lines if heading.startswith("|") else lines[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]


# -- settings --------------------------------------------------------------------------

def _default(path: str) -> Any:
    value: Any = Settings()
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _rendered(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _wrong_defaults(rows: dict[str, str]) -> list[str]:
    wrong = []
    for name, cell in rows.items():
        default = _default(name)
        literal = re.fullmatch(r"`([^`]*)`", cell)
        if literal:
            ok = literal.group(1) == _rendered(default)
        elif cell.startswith(("empty", "—")):
            ok = not default
        else:  # described in words ("phone text"): there is a default
            ok = bool(default)
        if not ok:
            wrong.append(f"{name}: README says {cell!r}, the code {default!r}")
    return wrong


def test_settings_table_defaults_are_the_code_defaults() -> None:
    """The names are checked by tests/unit/test_settings.py; here each default is."""
    rows = {r[0].strip("`"): r[1] for r in table_rows(README.read_text(), "| setting | default |")}
    assert set(rows) == set(setting_names())
    assert not _wrong_defaults(rows), "\n".join(_wrong_defaults(rows))
    # Positive control: the same check catches a wrong literal, a wrong "empty" and a
    # missing default described in words.
    tampered = {**rows, "http.port": "`8003`", "http.host": "empty", "ui.logo_url": "a logo"}
    assert len(_wrong_defaults(tampered)) == 3


# -- problem types ---------------------------------------------------------------------

def _statuses_by_slug() -> dict[str, set[int]]:
    """Each slug with the HTTP statuses the code can give it: class defaults, raises with
    ``slug=``, and the middleware's mapping of aiohttp's own errors."""
    classes = {name: cls for name, cls in vars(errors).items()
               if isinstance(cls, type) and issubclass(cls, errors.IdChatError)}
    found: dict[str, set[int]] = {}
    for cls in classes.values():
        found.setdefault(cls.slug, set()).add(cls.status)
    for path in [*(ROOT / "xmpp_plugin").rglob("*.py"), *(ROOT / "component").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in classes:
                for kw in node.keywords:
                    if kw.arg == "slug" and isinstance(kw.value, ast.Constant):
                        found.setdefault(kw.value.value, set()).add(classes[node.func.id].status)
            elif isinstance(node, ast.Dict) and node.keys and all(
                    isinstance(k, ast.Constant) and isinstance(k.value, int) for k in node.keys) \
                    and all(isinstance(v, ast.Constant) and isinstance(v.value, str)
                            and re.fullmatch(r"[a-z0-9-]+", v.value) for v in node.values):
                for k, v in zip(node.keys, node.values):
                    found.setdefault(v.value, set()).add(k.value)  # type: ignore[union-attr]
    return found


def _documented_problems() -> dict[str, int]:
    rows = table_rows(README.read_text(), "### Problem types")
    return {r[0].strip("`").removeprefix("/problems/"): int(r[1]) for r in rows}


def test_problem_types_table_is_every_slug_with_its_status() -> None:
    documented = _documented_problems()
    assert set(documented) == set(errors.PROBLEM_TYPES), \
        "README 'Problem types' and PROBLEM_TYPES in xmpp_plugin/errors.py differ"
    statuses = _statuses_by_slug()
    assert statuses["token-replayed"] == {409}          # the scan sees raises with slug=
    assert statuses["method-not-allowed"] == {405}      # ... and the middleware's mapping
    unknown = set(statuses) - set(errors.PROBLEM_TYPES)
    assert not unknown, f"slugs raised but not in PROBLEM_TYPES: {sorted(unknown)}"
    wrong = {slug: (status, sorted(statuses.get(slug, ())))
             for slug, status in documented.items() if {status} != statuses.get(slug)}
    assert not wrong, f"README status vs the code's: {wrong}"


def test_every_problem_status_in_openapi_is_documented() -> None:
    spec = document(Settings())
    problem_statuses = {int(code) for op in (m for path in spec["paths"].values() for m in path.values())
                        for code, resp in op["responses"].items()
                        if "application/problem+json" in resp.get("content", {})}
    assert {400, 404, 409, 503} <= problem_statuses      # the scan sees the problem responses
    missing = problem_statuses - set(_documented_problems().values())
    assert not missing, f"openapi answers these with a problem no README type has: {missing}"


# -- the protocol's XML ----------------------------------------------------------------

def _doc_elements() -> dict[tuple[str, str], set[str]]:
    """(namespace, name) -> attribute names, from every ```xml example in docs/protocol.md."""
    text = PROTOCOL.read_text()
    blocks = re.findall(r"```xml\n(.*?)```", text, flags=re.S)
    out: dict[tuple[str, str], set[str]] = {}
    for block in blocks:
        root = ET.fromstring(f"<examples>{block}</examples>")
        for el in root.iter():
            if el.tag.startswith("{"):
                ns, name = el.tag[1:].split("}")
                attrs = out.setdefault((ns, name), set())
                attrs.update(XML_LANG if k == XML_LANG else k for k in el.attrib)
                if (el.text or "").strip():
                    attrs.add("#text")
    return out


def _code_elements() -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for _, cls in inspect.getmembers(stanza, inspect.isclass):
        if cls.__module__ == stanza.__name__ and getattr(cls, "namespace", "") in (stanza.NS, stanza.HINTS_NS):
            interfaces = set(cls.interfaces)
            if issubclass(cls, stanza.Alternative):  # xml:lang and the text content
                interfaces = {{"lang": XML_LANG, "text": "#text"}.get(i, i) for i in interfaces}
            out[(cls.namespace, cls.name)] = interfaces
    return out


def test_protocol_examples_use_exactly_the_elements_of_the_code() -> None:
    documented = {k: v for k, v in _doc_elements().items() if k[0] in (stanza.NS, stanza.HINTS_NS)}
    code = _code_elements()
    assert (stanza.NS, "claim") in code and len(code) >= 15   # the scan sees the classes
    assert set(documented) == set(code), (
        f"only in docs/protocol.md: {sorted(set(documented) - set(code))}; "
        f"only in component/protocol/stanza.py: {sorted(set(code) - set(documented))}")
    unknown = {name: sorted(attrs - code[(ns, name)])
               for (ns, name), attrs in documented.items() if attrs - code[(ns, name)]}
    assert not unknown, f"attributes in the examples that the code does not know: {unknown}"


def test_every_attribute_of_the_code_is_documented() -> None:
    text = PROTOCOL.read_text()
    in_examples = _doc_elements()
    undocumented = []
    for (ns, name), interfaces in _code_elements().items():
        for attr in interfaces:
            if attr in in_examples.get((ns, name), set()):
                continue
            if re.search(rf"`{re.escape(attr)}(=[^`]*)?`", text):
                continue
            undocumented.append(f"<{name}/> {attr}")
    assert not undocumented, f"not in docs/protocol.md: {undocumented}"


# -- Redis keys ------------------------------------------------------------------------

def _code_keys() -> set[str]:
    keys = Keys("PREFIX")
    out = set()
    for name, method in inspect.getmembers(keys, inspect.ismethod):
        if name.startswith("_"):
            continue
        params = list(inspect.signature(method).parameters)
        key = method(*["ARG"] * len(params))
        assert key.startswith("PREFIX:"), name
        out.add(key.removeprefix("PREFIX:").replace("ARG", "*"))
    return out


def test_design_lists_every_redis_key() -> None:
    rows = table_rows(DESIGN.read_text(), "| key (after `<prefix>:`) |")
    documented = {re.sub(r"<[^>]+>", "*", r[0].strip("`")) for r in rows}
    code = _code_keys()
    assert "session:*" in code and "lives" in code        # the scan sees the key builders
    assert documented == code, (f"only in docs/design.md: {sorted(documented - code)}; "
                                f"only in Keys: {sorted(code - documented)}")
    no_lifetime = [r[0] for r in rows if len(r) < 3 or not r[2]]
    assert not no_lifetime, f"keys without a lifetime in docs/design.md: {no_lifetime}"


# -- cited tests and links ---------------------------------------------------------------

DOCUMENTS = sorted([README, ROOT / "CONTRIBUTING.md", ROOT / "SECURITY.md", ROOT / "CHANGELOG.md",
                    *(ROOT / "docs").rglob("*.md")])


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_")}


@pytest.mark.parametrize("doc", [d for d in DOCUMENTS if "tests/" in d.read_text()],
                         ids=lambda d: str(d.relative_to(ROOT)))
def test_documents_cite_only_tests_that_exist(doc: Path) -> None:
    cited = re.findall(r"(tests/[\w/]+\.py)::(test_\w+)", doc.read_text())
    missing = [f"{f}::{t}" for f, t in cited
               if not (ROOT / f).is_file() or t not in _test_functions(ROOT / f)]
    assert not missing, f"{doc.name} cites tests that do not exist: {missing}"


def test_the_privacy_document_names_a_test_beside_its_claims() -> None:
    cited = re.findall(r"(tests/[\w/]+\.py)::(test_\w+)", (ROOT / "docs" / "privacy.md").read_text())
    assert len({t for _, t in cited}) >= 15
    all_tests = {t for f in (ROOT / "tests").rglob("test_*.py") for t in _test_functions(f)}
    assert all_tests >= {t for _, t in cited}


def _links(doc: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
    return [m for m in re.findall(r"\]\(([^)\s]+)\)", text)
            if not re.match(r"[a-z]+:", m) and not m.startswith("#")]


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    broken = [link for link in _links(doc)
              if not (doc.parent / link.split("#")[0]).resolve().exists()]
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"


def test_every_document_is_linked_from_the_readme() -> None:
    linked = {(ROOT / link.split("#")[0]).resolve() for link in _links(README)}
    assert (ROOT / "docs" / "protocol.md").resolve() in linked   # the link scan works
    docs = {p.resolve() for p in (ROOT / "docs").glob("*.md")}
    assert not docs - linked, f"not linked from README.md: {sorted(docs - linked)}"
    decisions = {p.resolve() for p in (ROOT / "docs" / "decisions").glob("*.md")}
    from_design = {(DESIGN.parent / link.split("#")[0]).resolve() for link in _links(DESIGN)}
    assert decisions and not decisions - from_design, \
        f"decision records not linked from docs/design.md: {sorted(decisions - from_design)}"
