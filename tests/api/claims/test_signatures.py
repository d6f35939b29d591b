"""RELIABILITY 26-27, 30: replayed, other-chain, other-contract, expired and high-s
confirmations are refused by the API before anything is relayed, and by the chain."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from registry.claims import (
    high_s_twin,
    parse_typed_data,
    sign_typed_data,
    typed_data_digest,
)
from registry.errors import TransactionRevertedError
from tests.api.claims.conftest import ClaimsApi, KeyedParty


def _served(api: ClaimsApi) -> tuple[KeyedParty, KeyedParty, str, dict[str, Any]]:
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222")
    document_id = api.register_invoice(seller)
    api.anchor_all()
    return seller, buyer, document_id, api.confirmation(buyer, document_id)


def _on_chain(api: ClaimsApi, data: dict[str, Any], signature: bytes) -> str:
    """Relay directly, bypassing the API's checks; returns the contract's error."""
    _domain, confirmation = parse_typed_data(data)
    proof = _proof(api, data)
    with pytest.raises(TransactionRevertedError) as caught:
        api.claims.confirm(confirmation, signature, proof)  # type: ignore[arg-type]
    return caught.value.error_name


def _proof(api: ClaimsApi, data: dict[str, Any]) -> list[bytes]:
    from api.anchoring.models import AnchorBatch
    from registry.merkle import build_batch

    root = bytes.fromhex(data["message"]["documentRoot"][2:])
    with api.app.state.database.read_sessions() as session:
        for batch in session.query(AnchorBatch):
            if root in batch.roots():
                return build_batch(batch.roots()).proof(root)
    raise AssertionError("document not batched")


def test_the_served_digest_is_the_contracts_digest(
    sqlite_claims_api: ClaimsApi,
) -> None:
    api = sqlite_claims_api
    _seller, _buyer, _document_id, served = _served(api)
    _domain, confirmation = parse_typed_data(served["typed_data"])

    on_chain = api.claims.hash_confirmation(confirmation)  # type: ignore[arg-type]

    assert typed_data_digest(served["typed_data"]) == on_chain
    assert served["digest"] == "0x" + on_chain.hex()


def test_a_replayed_confirmation_is_refused_by_the_api_and_the_chain(
    claims_api: ClaimsApi,
) -> None:
    _seller, buyer, document_id, served = _served(claims_api)
    data = served["typed_data"]
    signature = claims_api.sign(buyer, data)
    first = claims_api.confirm(buyer, document_id, data, signature)
    sent_before = claims_api.chain.transaction_count(claims_api.claims.address)

    again = claims_api.confirm(buyer, document_id, data, signature)

    assert first.status_code == 201, first.text
    assert again.status_code == 409
    assert claims_api.chain.transaction_count(claims_api.claims.address) == sent_before
    assert _on_chain(claims_api, data, bytes.fromhex(signature[2:])) in (
        "InvalidAccountNonce",
        "ClaimTokenAlreadyConfirmed",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("chainId", "1"), ("verifyingContract", "0x" + "42" * 20)],
    ids=["wrong-chain-id", "wrong-contract"],
)
def test_a_confirmation_for_another_domain_is_refused(
    sqlite_claims_api: ClaimsApi, field: str, value: str
) -> None:
    api = sqlite_claims_api
    _seller, buyer, document_id, served = _served(api)
    data = copy.deepcopy(served["typed_data"])
    data["domain"][field] = value
    signature = sign_typed_data(buyer.key, data)

    response = api.confirm(buyer, document_id, data, "0x" + signature.hex())

    assert response.status_code == 422
    assert response.json()["reason"] == "wrong_domain"
    # the contract hashes with its own domain: the signature recovers to another key
    assert _on_chain(api, served["typed_data"], signature) == "ClaimTokenInvalidSigner"
    assert api.document(buyer, document_id)["status"] == "anchored"


def test_an_expired_confirmation_is_refused(sqlite_claims_api: ClaimsApi) -> None:
    api = sqlite_claims_api
    _seller, buyer, document_id, served = _served(api)
    data = copy.deepcopy(served["typed_data"])
    data["message"]["deadline"] = str(api.now() - 1)
    signature = sign_typed_data(buyer.key, data)

    response = api.confirm(buyer, document_id, data, "0x" + signature.hex())

    assert response.status_code == 422
    assert response.json()["reason"] == "expired"
    assert _on_chain(api, data, signature) == "ClaimTokenExpiredConfirmation"


def test_the_high_s_twin_of_a_valid_signature_is_refused(
    sqlite_claims_api: ClaimsApi,
) -> None:
    api = sqlite_claims_api
    _seller, buyer, document_id, served = _served(api)
    data = served["typed_data"]
    twin = high_s_twin(sign_typed_data(buyer.key, data))

    response = api.confirm(buyer, document_id, data, "0x" + twin.hex())

    assert response.status_code == 422
    assert _on_chain(api, data, twin) == "ECDSAInvalidSignatureS"
    # the original, low-s form still works: replay protection is the nonce
    accepted = api.confirm(buyer, document_id, data, api.sign(buyer, data))
    assert accepted.status_code == 201, accepted.text


def test_a_confirmation_signed_by_another_key_or_for_other_terms_is_refused(
    sqlite_claims_api: ClaimsApi,
) -> None:
    api = sqlite_claims_api
    seller, buyer, document_id, served = _served(api)
    data = served["typed_data"]
    by_seller = api.confirm(buyer, document_id, data, api.sign(seller, data))
    cheaper = copy.deepcopy(data)
    cheaper["message"]["faceValue"] = "1"
    other_terms = api.confirm(buyer, document_id, cheaper, api.sign(buyer, cheaper))
    as_seller = api.confirm(seller, document_id, data, api.sign(buyer, data))

    assert by_seller.status_code == 422
    assert by_seller.json()["reason"] == "wrong_signer"
    assert other_terms.json()["reason"] == "terms_mismatch"
    assert as_seller.status_code == 403
