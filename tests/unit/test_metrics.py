"""The Prometheus exposition of both processes: the names we promise, bounded labels,
and nothing that identifies a chat, a session, an agent or a citizen."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from component import metrics as cm
from component.overview import AgentLoad, Overview, QueueLoad
from xmpp_plugin import metrics as hm
from xmpp_plugin.errors import PROBLEM_TYPES

JULIET = "juliet@capulet.lit"
SESSION_ID = "Q2hhdFNlc3Npb25JZEZvclRlc3RpbmdPbmx5MTIzNDU2"  # token_urlsafe(32)-shaped
CHAT_ID = "c0ffee0123456789abcdef0123456789"
ALLOWED_LABELS = {"route", "type", "by", "state", "purpose", "lease", "le", "verdict",
                  # the process and platform collectors of prometheus_client
                  "implementation", "major", "minor", "patchlevel", "version", "generation"}
# An id-like value: a long run of letters and digits, or anything with an @ (a JID).
ID_LIKE = re.compile(r"@|[A-Za-z0-9_-]{24,}")


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value)
            for fam in text_string_to_metric_families(text) for s in fam.samples]


def component_text(view: Overview, labels: cm.PurposeLabels | None = None) -> str:
    reg = CollectorRegistry()
    reg.register(cm._Scrape({"connected": 1.0, "redis_up": 1.0, "ping": 0.001, "sweeper": 1.0,
                             "connection": 1.0, "admitted": 12.0, "refused": 34.0,
                             "dropped": 5678.0, "handlers": 2.0},
                            view, labels or cm.PurposeLabels()))
    return hm.exposition(hm.SHARED, cm.REGISTRY, reg).decode()


def busy_view(purposes: list[str]) -> Overview:
    return Overview(
        queues=tuple(QueueLoad(p, 3, 42.0, 90.0) for p in purposes),
        agents=(AgentLoad(JULIET, "Juliet", True, 2, 1, 4, 1_700_000_000_000),
                AgentLoad("romeo@montague.lit", "Romeo", False, 1, 0, 2, 0)),
        open_chats=7, taken_ms=0)


def test_http_exposition_names_and_labels_after_events() -> None:
    hm.session_started(True)
    hm.session_started(False)
    hm.problem("token-expired")
    hm.problem("a-slug-nobody-defined")
    text = hm.exposition(hm.SHARED, hm.HTTP).decode()
    got = samples(text)
    names = {n for n, _, _ in got}
    # Positive control: the scan below sees the metrics it is about.
    for name in ("idchat_sessions_started_total", "idchat_tokens_rejected_total",
                 "idchat_http_problems_total", "idchat_redis_errors_total",
                 "idchat_redis_operation_seconds_bucket", "process_cpu_seconds_total"):
        assert name in names, name
    types = {lab["type"] for n, lab, _ in got if n == "idchat_http_problems_total"}
    assert "token-expired" in types and "other" in types
    assert types <= set(PROBLEM_TYPES) | {"other"}
    rejected = {lab["type"] for n, lab, _ in got if n == "idchat_tokens_rejected_total"}
    assert rejected == {t for t in rejected if t.startswith("token-") or t == "invalid-token"}
    routes = {lab["route"] for n, lab, _ in got if n == "idchat_sessions_started_total"}
    assert routes == {"auth_result", "attr_url"}


def test_component_exposition_has_every_promised_metric_and_no_identity() -> None:
    text = component_text(busy_view(["report_move", "request_permit"]))
    names = {n for n, _, _ in samples(text)}
    for name in ("idchat_chats_claimed_total", "idchat_chats_offered_total",
                 "idchat_chats_accepted_total", "idchat_offers_declined_total",
                 "idchat_offers_timed_out_total", "idchat_chats_ended_total",
                 "idchat_wait_seconds_bucket", "idchat_handling_seconds_bucket",
                 "idchat_chat_setup_seconds_bucket", "idchat_component_reconnects_total",
                 "idchat_component_connected", "idchat_component_lease_held",
                 "idchat_queue_length", "idchat_queue_oldest_wait_seconds",
                 "idchat_agents_available", "idchat_agents_busy", "idchat_chats_open",
                 "idchat_chats_assigned", "idchat_capacity_chats", "idchat_capacity_free",
                 "idchat_redis_ping_seconds", "idchat_redis_errors_total",
                 "idchat_component_stanzas_total", "idchat_component_handlers_running"):
        assert name in names, name
    values = {(n, tuple(sorted(lab.items()))): v for n, lab, v in samples(text)}
    assert values[("idchat_component_stanzas_total", (("verdict", "dropped"),))] == 5678
    assert values[("idchat_component_handlers_running", ())] == 2
    assert values[("idchat_queue_length", (("purpose", "report_move"),))] == 3
    assert values[("idchat_agents_available", ())] == 1
    assert values[("idchat_agents_busy", ())] == 2
    assert values[("idchat_capacity_free", ())] == 1   # 4 - 2 open - 1 offer, on duty only
    assert JULIET not in text and "Juliet" not in text and "romeo" not in text


def test_no_label_carries_an_id_and_label_names_are_few() -> None:
    chat = type("C", (), {"assigned_ms": 1, "enqueued_ms": 1, "id": CHAT_ID, "sid": SESSION_ID})()
    cm.ended(chat, "assigned", "agent")  # type: ignore[arg-type]
    cm.ended(chat, "queued", SESSION_ID)  # type: ignore[arg-type]  an unknown 'by' is 'other'
    text = component_text(busy_view([SESSION_ID, CHAT_ID, "report_move"]))
    # Positive control: the scan finds an id where there is one.
    assert ID_LIKE.search(f'x{{purpose="{SESSION_ID}"}}') and ID_LIKE.search(JULIET)
    for name, labels, _ in samples(text):
        assert set(labels) <= ALLOWED_LABELS, (name, labels)
        for value in labels.values():
            assert not ID_LIKE.search(value), (name, labels)
    assert SESSION_ID not in text and CHAT_ID not in text


def test_purpose_labels_are_bounded() -> None:
    label = cm.PurposeLabels(configured={"report_move", "parking"}, limit=5)  # topics + agents
    many = [f"topic_{i}" for i in range(100)]
    text = component_text(busy_view(["report_move", "parking", *many]), label)
    purposes = {lab["purpose"] for n, lab, _ in samples(text) if n == "idchat_queue_length"}
    assert {"report_move", "parking", "other"} <= purposes
    assert len(purposes) == 2 + 5 + 1
    lengths = {lab["purpose"]: v for n, lab, v in samples(text) if n == "idchat_queue_length"}
    assert lengths["other"] == 3 * 95   # nothing is lost: the rest is summed under 'other'
    assert label("not a tag, has spaces") == "other"


def test_shared_gauges_only_from_the_lease_holder() -> None:
    without = component_text(None)  # type: ignore[arg-type]
    names = {n for n, _, _ in samples(without)}
    assert "idchat_component_connected" in names            # control: the scan works
    assert not names & {"idchat_queue_length", "idchat_agents_available", "idchat_chats_open"}


def test_monitoring_files_use_only_metrics_we_export() -> None:
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "monitoring"
    exported = {n for n, _, _ in samples(component_text(busy_view(["report_move"])))}
    hm.problem("token-expired")
    hm.ATTRIBUTES_DELIVERED.labels("attr_url")
    exported |= {n for n, _, _ in samples(hm.exposition(hm.SHARED, hm.HTTP).decode())}
    files = [root / "alerts.yml", *sorted((root / "grafana" / "dashboards").glob("*.json"))]
    used = {name for f in files for name in re.findall(r"\bidchat_[a-z_]+", f.read_text())}
    assert {"idchat_queue_length", "idchat_tokens_rejected_total"} <= used   # control
    assert used <= exported, sorted(used - exported)
