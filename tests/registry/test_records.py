"""Records: validating and normalising orders, deliveries, invoices, credit notes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from registry.currencies import MINOR_UNIT_EXPONENTS, minor_unit_exponent
from registry.errors import InvalidAmountError, RecordError, RecordValidationError
from registry.records import (
    CreditNote,
    DeliveryNote,
    Invoice,
    PurchaseOrder,
    load_record_json,
    parse_record,
    record_to_canonical_dict,
)


def invoice_data(**overrides: Any) -> dict[str, Any]:
    """A realistic invoice as a client would send it (26 fields once sealed)."""
    data: dict[str, Any] = {
        "type": "invoice",
        "number": "INV-2024-000123",
        "issued_on": "2024-02-29",
        "due_on": "2024-04-29",
        "seller": {
            "tax_id": "DE123456789",
            "name": "Müller Präzisionsteile GmbH",
            "address": "Industriestraße 5, 70565 Stuttgart",
        },
        "buyer": {"tax_id": "FR98765432101", "name": "Acme Industries SA"},
        "currency": "EUR",
        "order_numbers": ["PO-7781"],
        "delivery_note_numbers": ["DN-7781-1"],
        "lines": [
            {
                "description": "Hex bolts M8",
                "quantity": "2.50",
                "unit_price": "10.00",
                "amount": "25",
            },
            {
                "description": "Washers 8 mm",
                "quantity": 100,
                "unit_price_minor": 12,
                "amount_minor": 1200,
            },
        ],
        "tax": "7.03",
        "total": "44.03",
    }
    data.update(overrides)
    return data


def order_data() -> dict[str, Any]:
    data = invoice_data(type="purchase_order", number="PO-7781")
    for key in ("due_on", "order_numbers", "delivery_note_numbers"):
        del data[key]
    return data


def fields_of(error: RecordValidationError) -> list[str]:
    return [problem.field for problem in error.problems]


def refused_fields(data: dict[str, Any]) -> list[str]:
    with pytest.raises(RecordValidationError) as caught:
        parse_record(data)
    return fields_of(caught.value)


class TestParsing:
    def test_invoice_is_parsed_into_a_frozen_typed_record(self) -> None:
        record = parse_record(invoice_data())

        assert isinstance(record, Invoice)
        assert record.total_minor == 4403
        assert record.tax_minor == 703
        assert record.subtotal_minor == 3700
        assert record.lines[0].quantity == "2.5"
        with pytest.raises(ValueError, match="frozen"):
            record.total_minor = 1  # type: ignore[misc]

    def test_each_record_type_is_dispatched_on_its_type_key(self) -> None:
        delivery = {
            "type": "delivery_note",
            "number": "DN-1",
            "issued_on": "2024-03-01",
            "seller": {"tax_id": "DE1", "name": "S"},
            "buyer": {"tax_id": "FR2", "name": "B"},
            "order_number": "PO-7781",
            "order_root": "0x" + "AB" * 32,
            "lines": [{"description": "bolts", "quantity": "2.5"}],
        }
        credit = invoice_data(
            type="credit_note", invoice_number="INV-1", reason="damaged goods"
        )
        for key in ("due_on", "order_numbers", "delivery_note_numbers"):
            del credit[key]

        assert isinstance(parse_record(order_data()), PurchaseOrder)
        parsed_delivery = parse_record(delivery)
        assert isinstance(parsed_delivery, DeliveryNote)
        assert parsed_delivery.order_root == "0x" + "ab" * 32
        assert isinstance(parse_record(credit), CreditNote)

    def test_unknown_type_is_refused_naming_the_type_field(self) -> None:
        assert refused_fields(invoice_data(type="receipt")) == ["/type"]

    def test_unknown_field_is_refused_naming_it(self) -> None:
        assert refused_fields(invoice_data(status="paid")) == ["/status"]

    def test_every_problem_is_reported_at_once(self) -> None:
        data = invoice_data(currency="eur", issued_on="2024-02-30")
        data["seller"]["name"] = ""

        fields = refused_fields(data)

        assert {"/currency", "/issued_on", "/seller/name"} <= set(fields)

    def test_canonical_dict_carries_type_and_schema_version(self) -> None:
        canonical = record_to_canonical_dict(parse_record(invoice_data()))

        assert canonical["type"] == "invoice"
        assert canonical["version"] == 1
        assert canonical["lines"][0] == {
            "description": "Hex bolts M8",
            "quantity": "2.5",
            "unit_price_minor": 1000,
            "amount_minor": 2500,
        }
        assert "address" not in canonical["buyer"]

    def test_canonical_dict_parses_back_to_the_same_record(self) -> None:
        record = parse_record(invoice_data())

        assert parse_record(record_to_canonical_dict(record)) == record

    def test_version_other_than_one_is_refused(self) -> None:
        assert refused_fields(invoice_data(version=2)) == ["/version"]


class TestAmounts:
    def test_major_amounts_with_and_without_trailing_zero_normalise_alike(
        self,
    ) -> None:
        a = parse_record(invoice_data(tax="7.00", total="44.00"))
        b = parse_record(invoice_data(tax="7", total="44.0"))

        assert isinstance(a, Invoice)
        assert a == b
        assert a.total_minor == 4400

    def test_minor_integer_and_major_string_give_the_same_amount(self) -> None:
        data = invoice_data()
        del data["tax"], data["total"]
        data.update(tax_minor=703, total_minor=4403)

        assert parse_record(data) == parse_record(invoice_data())

    @pytest.mark.parametrize(
        "total",
        [
            "0",
            "0.00",
            "-44.03",
            "44.030",
            "4.403e1",
            "NaN",
            "Infinity",
            " 44.03",
            "+44",
        ],
    )
    def test_bad_major_amount_is_refused_naming_the_field(self, total: str) -> None:
        with pytest.raises(RecordValidationError) as caught:
            parse_record(invoice_data(total=total))

        assert "/total" in fields_of(caught.value)
        problem = next(p for p in caught.value.problems if p.field == "/total")
        assert isinstance(problem, InvalidAmountError)

    @pytest.mark.parametrize(
        "total_minor", [0, -1, 2**53, 2**255, 2**256, True, "4403"]
    )
    def test_bad_minor_amount_is_refused_naming_the_field(
        self, total_minor: Any
    ) -> None:
        data = invoice_data(total_minor=total_minor)
        del data["total"]

        assert "/total_minor" in refused_fields(data)

    def test_float_amount_is_refused_naming_the_field(self) -> None:
        text = json.dumps(invoice_data()).replace('"44.03"', "44.03")

        with pytest.raises(RecordValidationError) as caught:
            load_record_json(text)

        assert fields_of(caught.value) == ["/total"]
        assert isinstance(caught.value.problems[0], InvalidAmountError)

    @pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "4403.0"])
    def test_non_integer_json_numbers_are_refused_in_minor_fields(
        self, literal: str
    ) -> None:
        data = invoice_data(total_minor=999999)
        del data["total"]
        text = json.dumps(data).replace("999999", literal)

        with pytest.raises(RecordValidationError) as caught:
            load_record_json(text)

        assert fields_of(caught.value) == ["/total_minor"]

    def test_float_given_directly_in_python_is_refused(self) -> None:
        data = invoice_data(total_minor=44.03)
        del data["total"]

        assert refused_fields(data) == ["/total_minor"]

    def test_more_decimals_than_the_currency_has_is_refused(self) -> None:
        jpy = invoice_data(currency="JPY", tax="0", total="4403.5")
        for line in jpy["lines"]:
            line.pop("unit_price", None)
            line.pop("amount", None)
            line.update(unit_price_minor=1, amount_minor=1)
        jpy["lines"][0]["quantity"] = 1
        jpy["lines"][1]["quantity"] = 1

        assert refused_fields(jpy) == ["/total"]

    def test_three_decimal_currency_takes_three_decimals(self) -> None:
        data = invoice_data(currency="KWD", tax="0.001", total="37.001")
        data["lines"][0].update(unit_price="10", amount="25")
        data["lines"][1].update(unit_price_minor=120, amount_minor=12000)

        record = parse_record(data)

        assert isinstance(record, Invoice)
        assert record.total_minor == 37001

    def test_line_amounts_that_do_not_sum_to_the_total_are_refused(self) -> None:
        assert refused_fields(invoice_data(total="44.04")) == ["/total"]

    def test_line_amount_not_matching_quantity_times_price_is_refused(self) -> None:
        data = invoice_data(total="45.03")
        data["lines"][0]["amount"] = "26"

        assert refused_fields(data) == ["/lines/0/amount"]

    def test_amount_given_twice_is_refused(self) -> None:
        assert refused_fields(invoice_data(total_minor=4403)) == ["/total"]


class TestCurrencies:
    @pytest.mark.parametrize(
        ("code", "exponent"),
        [
            ("EUR", 2),
            ("USD", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("KWD", 3),
            ("BHD", 3),
            ("CLF", 4),
            ("UYW", 4),
        ],
    )
    def test_known_currency_has_its_iso_4217_exponent(
        self, code: str, exponent: int
    ) -> None:
        assert minor_unit_exponent(code) == exponent

    def test_codes_without_a_minor_unit_are_not_currencies_here(self) -> None:
        assert {"XAU", "XDR", "XXX", "XTS"}.isdisjoint(MINOR_UNIT_EXPONENTS)

    def test_table_is_upper_case_three_letter_codes(self) -> None:
        assert all(len(c) == 3 and c.isupper() for c in MINOR_UNIT_EXPONENTS)
        assert len(MINOR_UNIT_EXPONENTS) > 150

    @pytest.mark.parametrize("currency", ["eur", "Eur", "EURO", "ABC", "", 978])
    def test_lower_case_or_unknown_currency_is_refused(self, currency: Any) -> None:
        assert refused_fields(invoice_data(currency=currency)) == ["/currency"]


class TestDatesAndText:
    @pytest.mark.parametrize(
        "issued_on", ["2023-02-29", "2024-13-01", "2024-00-10", "24-01-01", "20240101"]
    )
    def test_impossible_or_malformed_date_is_refused(self, issued_on: str) -> None:
        assert refused_fields(invoice_data(issued_on=issued_on)) == ["/issued_on"]

    def test_due_date_before_issue_date_is_refused(self) -> None:
        assert refused_fields(invoice_data(due_on="2024-02-28")) == ["/due_on"]

    def test_due_date_on_issue_date_is_accepted(self) -> None:
        assert parse_record(invoice_data(due_on="2024-02-29"))

    @pytest.mark.parametrize("char", ["\x00", "\n", "\t", "\x1b", "\x7f", "\x85"])
    def test_control_characters_in_text_are_refused(self, char: str) -> None:
        data = invoice_data()
        data["buyer"]["name"] = f"Acme{char}Industries"

        assert refused_fields(data) == ["/buyer/name"]

    def test_other_unicode_is_kept_exactly_as_sent(self) -> None:
        name = "Cafe\u0301 Ünïcödé 株式会社 \u200d🚚"
        data = invoice_data()
        data["buyer"]["name"] = name

        record = parse_record(data)

        assert record.buyer.name == name
        assert record_to_canonical_dict(record)["buyer"]["name"] == name

    def test_lone_surrogate_is_refused(self) -> None:
        data = invoice_data()
        data["seller"]["name"] = "bad \ud800"

        assert refused_fields(data) == ["/seller/name"]

    def test_float_quantity_is_refused(self) -> None:
        data = invoice_data()
        data["lines"][0]["quantity"] = 2.5

        assert refused_fields(data) == ["/lines/0/quantity"]


class TestJsonLoading:
    def test_duplicate_keys_are_refused_naming_the_key(self) -> None:
        text = json.dumps(invoice_data())[:-1] + ', "number": "INV-X"}'

        with pytest.raises(RecordValidationError) as caught:
            load_record_json(text)

        assert fields_of(caught.value) == ["/number"]

    def test_text_that_is_not_json_is_refused(self) -> None:
        with pytest.raises(RecordError):
            load_record_json(b"{not json")

    def test_bytes_and_text_load_alike(self) -> None:
        text = json.dumps(invoice_data(), ensure_ascii=False)

        assert load_record_json(text) == load_record_json(text.encode())

    def test_input_is_not_mutated(self) -> None:
        data = invoice_data()
        before = copy.deepcopy(data)

        parse_record(data)

        assert data == before
