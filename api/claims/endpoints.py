"""HTTP routes for confirmations, claims, offers and relayed transactions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from api.auth.dependencies import CurrentCaller
from api.chain_health import require_chain
from api.claims import relay as relaying
from api.claims import service
from api.claims.errors import ClaimsUnavailableError
from api.claims.schemas import (
    ClaimHistory,
    ClaimList,
    ClaimOut,
    ConfirmationTypedData,
    OfferCreate,
    OfferDraftOut,
    OfferDraftRequest,
    OfferList,
    OfferOut,
    RejectionRequest,
    RelayedOut,
    SignedMessage,
    SignedTransactionIn,
)
from api.db import Database, ReadSession, WriteSession
from api.errors import problem_responses
from api.idempotency import Idempotency, IdempotentRequest

router = APIRouter(prefix="/v1/claims", tags=["claims"])


_PROBLEMS = problem_responses(
    {
        401: "Missing or invalid bearer token",
        403: "The caller may not do this, or signed with another key",
        404: "No such invoice or claim visible to the caller",
        409: "Stale nonce, refused by the contract, already financed, or wrong status",
        422: "Invalid signature, typed data or transaction; `errors` says which",
        503: "Chain or database unavailable; see Retry-After",
    }
)


def claims_context(request: Request) -> service.ClaimsContext:
    """The claims side of the service (503 when it runs without a claim token)."""
    context: service.ClaimsContext | None = getattr(
        request.app.state, "claims_context", None
    )
    if context is None:
        raise ClaimsUnavailableError()
    return context


Context = Annotated[service.ClaimsContext, Depends(claims_context)]
Chain = Depends(require_chain)


def _respond(
    request: Request, idempotent: IdempotentRequest, status: int, payload: BaseModel
) -> Response:
    """Answer and store the response for the Idempotency-Key, in its own commit."""
    database: Database = request.app.state.database
    with database.sessions() as session:
        response = idempotent.respond(session, status, payload)
        session.commit()
    return response


@router.get(
    "/invoices/{document_id}/confirmation",
    response_model=ConfirmationTypedData,
    responses=_PROBLEMS,
    dependencies=[Chain],
)
def confirmation_typed_data(
    document_id: uuid.UUID, caller: CurrentCaller, context: Context
) -> ConfirmationTypedData:
    """The EIP-712 typed data the buyer signs to confirm an anchored invoice."""
    return service.confirmation_typed_data(context, caller, document_id)


@router.post(
    "/invoices/{document_id}/confirmation",
    status_code=201,
    response_model=ClaimOut,
    responses=_PROBLEMS,
    dependencies=[Chain],
)
def confirm_invoice(
    document_id: uuid.UUID,
    body: SignedMessage,
    request: Request,
    caller: CurrentCaller,
    idempotent: Idempotency,
    context: Context,
) -> Response:
    """Relay the buyer's signed confirmation: the claim is minted to the seller."""
    if idempotent.replay is not None:
        return idempotent.replay
    claim = service.confirm_invoice(context, caller, document_id, body)
    return _respond(request, idempotent, 201, claim)


class RejectionOut(BaseModel):
    document_id: uuid.UUID
    status: str


@router.post(
    "/invoices/{document_id}/rejection",
    response_model=RejectionOut,
    responses=_PROBLEMS,
)
def reject_invoice(
    document_id: uuid.UUID,
    body: RejectionRequest,
    caller: CurrentCaller,
    idempotent: Idempotency,
    session: WriteSession,
) -> Response:
    """The buyer refuses to confirm an invoice, with a reason."""
    if idempotent.replay is not None:
        return idempotent.replay
    status = service.reject_invoice(session, caller, document_id, body.reason)
    out = RejectionOut(document_id=document_id, status=status)
    return idempotent.respond(session, 200, out)


@router.get("", response_model=ClaimList, responses=_PROBLEMS)
def list_claims(
    caller: CurrentCaller,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ClaimList:
    """Claims the caller holds units of, sold, or owes."""
    return service.list_claims(session, caller, limit)


@router.get(
    "/offers", response_model=OfferList, responses=_PROBLEMS, dependencies=[Chain]
)
def list_offers(
    caller: CurrentCaller,
    context: Context,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OfferList:
    """Open offers with price, daily discount rate and days to maturity."""
    return service.list_offers(context, caller, limit)


@router.get("/{claim_id}", response_model=ClaimOut, responses=_PROBLEMS)
def read_claim(claim_id: str, caller: CurrentCaller, session: ReadSession) -> ClaimOut:
    """A claim: terms, holders, repaid and paid out, as indexed from the chain."""
    return service.claim_out(session, service.visible_claim(session, caller, claim_id))


@router.get("/{claim_id}/history", response_model=ClaimHistory, responses=_PROBLEMS)
def claim_history(
    claim_id: str, caller: CurrentCaller, session: ReadSession
) -> ClaimHistory:
    """Every chain event of a claim, in order: its whole life."""
    return service.claim_history(session, caller, claim_id)


@router.post(
    "/{claim_id}/offer-drafts",
    response_model=OfferDraftOut,
    responses=_PROBLEMS,
    dependencies=[Chain],
)
def offer_draft(
    claim_id: str, body: OfferDraftRequest, caller: CurrentCaller, context: Context
) -> OfferDraftOut:
    """Typed data of an offer to sign, priced from a daily discount rate."""
    return service.offer_draft(context, caller, claim_id, body)


@router.post(
    "/{claim_id}/offers",
    status_code=201,
    response_model=OfferOut,
    responses=_PROBLEMS,
    dependencies=[Chain],
)
def create_offer(
    claim_id: str,
    body: OfferCreate,
    request: Request,
    caller: CurrentCaller,
    idempotent: Idempotency,
    context: Context,
) -> Response:
    """Store the holder's signed offer; funders see it in the offers list."""
    if idempotent.replay is not None:
        return idempotent.replay
    offer = service.create_offer(context, caller, claim_id, body)
    return _respond(request, idempotent, 201, offer)


def _relay_route(action: str, path: str, summary: str) -> None:
    def relay(
        claim_id: str,
        body: SignedTransactionIn,
        request: Request,
        caller: CurrentCaller,
        idempotent: Idempotency,
        context: Context,
    ) -> Response:
        if idempotent.replay is not None:
            return idempotent.replay
        out = relaying.relay(context, caller, action, body.raw_bytes(), claim_id)
        return _respond(request, idempotent, 200, out)

    relay.__doc__ = summary
    router.add_api_route(
        f"/{{claim_id}}/{path}",
        relay,
        methods=["POST"],
        response_model=RelayedOut,
        responses=_PROBLEMS,
        dependencies=[Chain],
        name=f"relay_{action}",
    )


_relay_route(
    "purchase", "purchases", "Relay a funder's signed purchase of offered units."
)
_relay_route("transfer", "transfers", "Relay a holder's signed transfer of units.")
_relay_route("repayment", "repayments", "Relay the obligor's signed repayment.")
_relay_route("redemption", "redemptions", "Relay a holder's signed redemption.")
_relay_route(
    "cancellation", "offer-cancellations", "Relay a holder's signed offer cancellation."
)


@router.post(
    "/currency-approvals",
    response_model=RelayedOut,
    responses=_PROBLEMS,
    dependencies=[Chain],
)
def relay_approval(
    body: SignedTransactionIn,
    request: Request,
    caller: CurrentCaller,
    idempotent: Idempotency,
    context: Context,
) -> Response:
    """Relay a party's signed approval of the currency to the claim token."""
    if idempotent.replay is not None:
        return idempotent.replay
    out = relaying.relay(context, caller, "approval", body.raw_bytes())
    return _respond(request, idempotent, 200, out)
