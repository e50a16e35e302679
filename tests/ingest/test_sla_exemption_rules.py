"""The SLA exemption register's mapping-time rules on their own, without a warehouse
(end to end, with the marts: tests/transform/test_sla_exemptions.py)."""

from __future__ import annotations

from itss_warehouse.ingest.sla_exemptions import ExemptionEntry, exemption_problem

KNOWN = {"T1", "T2", "T3"}
MEASURED = {"T1": {"response": "met", "resolution": "breached"}, "T2": {"response": "in_progress"}}


def _problem(ticket_id: str | None, metric: str | None):
    return exemption_problem(ExemptionEntry(2, ticket_id, metric), KNOWN, MEASURED)


def test_a_breached_metric_or_all_of_a_ticket_with_a_breach_is_accepted():
    assert _problem("T1", "resolution") is None
    assert _problem("T1", "all") is None


def test_an_unknown_ticket_is_refused():
    assert _problem("T9", "resolution") == ("ticket_id", "T9", "unknown ticket: no ticket with this id has been loaded")


def test_a_metric_that_did_not_breach_is_refused_with_its_status():
    assert _problem("T1", "response") == ("metric", "response", "did not breach: the response metric is met")
    assert _problem("T2", "response") == ("metric", "response", "did not breach: the response metric is in_progress")
    assert _problem("T1", "onsite") == ("metric", "onsite", "did not breach: the onsite metric is not measured")
    assert _problem("T2", "all") == ("metric", "all", "did not breach: no metric of the ticket is breached")


def test_a_ticket_not_measured_yet_is_accepted_and_missing_fields_left_to_the_suite():
    assert _problem("T3", "resolution") is None  # the marts apply it to breached metrics only
    assert _problem(None, "resolution") is None and _problem("T1", None) is None
