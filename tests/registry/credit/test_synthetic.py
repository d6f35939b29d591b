"""The generated economy: reproducible, valid records, fraud found without labels."""

from __future__ import annotations

from datetime import date

from registry.credit.demo import story
from registry.credit.evaluation import evaluate
from registry.credit.synthetic import generate_economy

AS_OF = date(2026, 10, 15)


def test_the_same_seed_generates_the_same_economy() -> None:
    first = generate_economy(5, AS_OF, sellers=30, buyers=12, months=14)
    second = generate_economy(5, AS_OF, sellers=30, buyers=12, months=14)

    assert first.facts == second.facts
    assert first.labels == second.labels
    assert generate_economy(6, AS_OF, sellers=30, buyers=12).facts != first.facts


def test_generated_records_pass_the_registrys_validation() -> None:
    economy = generate_economy(5, AS_OF, sellers=12, buyers=6, months=13, validate=True)

    kinds = {record["type"] for _, record in economy.records}
    assert kinds >= {"purchase_order", "delivery_note", "invoice"}
    assert len(economy.records) > 1000


def test_labels_say_nothing_the_facts_do() -> None:
    economy = generate_economy(5, AS_OF, sellers=30, buyers=12, months=14)

    assert all(p.startswith("P") for p in economy.facts.parties)
    assert {label.fraud for label in economy.labels.values()} >= {"ring", None}


def test_planted_fraud_is_found_and_seasonal_sellers_are_not_declined() -> None:
    economy = generate_economy(1, AS_OF, sellers=150, buyers=60)

    result = evaluate(economy)

    assert result.recall >= 0.9
    assert result.precision >= 0.8
    assert result.seasonal_declined <= 0.05 * result.seasonal_honest


def test_demo_story_declines_a_ring_and_approves_a_harvest_seller_at_its_peak() -> None:
    lines = story()

    text = "\n".join(lines)
    assert "ring member" in text
    assert "DECLINE" in text
    assert "circular_trade" in text
    assert "honest harvest seller at its peak" in text
    assert "APPROVE" in text
    assert "seasonal index for October" in text
