#!/usr/bin/env python3
"""A stand-in billing service for the examples (onboarding, dunning, mistakes).

Implements every operation of examples/*/billing.json, on the connector's
default port 8099 (or --port; the examples reach it through BILLING_URL):

  POST /customers/{customer}/charges   charge          -> Charge (201)
  POST /charges/{charge}/refunds       refund          -> {id, charge} (201)
  GET  /invoices/{invoice}             get_invoice     -> Invoice
  POST /invoices/{invoice}/collections mark_in_collections -> Invoice
  POST /invoices/{invoice}/reopen      reopen_invoice  -> Invoice

Clients send `Authorization: Bearer $BILLING_TOKEN`. One invoice exists at
start, inv_1 (42.00 EUR, open), the one examples/dunning/input.json chases.
Auth, idempotency, the record file and the options: stand_in.py.

  BILLING_TOKEN=secret python3 examples/services/billing.py --record billing.jsonl
"""

import sys

from stand_in import HttpError, Route, Service, lookup, now_rfc3339, serve

CHARGES = {}   # id -> Charge
REFUNDS = {}   # charge id -> refund
INVOICES = {
    "inv_1": {"id": "inv_1", "amount_due": 4200, "status": "open",
              "customer_email": "ada@example.com", "due_at": "2026-01-31T00:00:00Z",
              "collections": None},
}


def charge(params, body):
    amount = body.get("amount")
    if not isinstance(amount, int) or amount < 1:
        raise HttpError(400, "amount must be a positive integer (cents)")
    charge_id = "ch_%d" % (len(CHARGES) + 1)
    CHARGES[charge_id] = {"id": charge_id, "customer": params["customer"], "amount": amount,
                          "currency": body.get("currency", "eur"), "status": "paid",
                          "receipt_url": f"https://billing.example.com/receipts/{charge_id}",
                          "created_at": now_rfc3339()}
    return 201, CHARGES[charge_id]


def refund(params, body):
    charge_id = params["charge"]
    if charge_id not in CHARGES:
        raise HttpError(404, f"no such charge: {charge_id}")
    if charge_id in REFUNDS:
        raise HttpError(409, f"charge {charge_id} is already refunded")
    REFUNDS[charge_id] = {"id": "re_%d" % (len(REFUNDS) + 1), "charge": charge_id,
                          "amount": CHARGES[charge_id]["amount"]}
    return 201, REFUNDS[charge_id]


def invoice(params):
    return lookup(INVOICES, params["invoice"], "invoice")


def get_invoice(params, body):
    return 200, invoice(params)


def mark_in_collections(params, body):
    if body.get("agency") not in ("inhouse", "external"):
        raise HttpError(400, "agency must be 'inhouse' or 'external'")
    invoice(params)["collections"] = body["agency"]
    return 200, invoice(params)


def reopen_invoice(params, body):
    invoice(params)["collections"] = None
    return 200, invoice(params)


BILLING = Service("billing", "BILLING_TOKEN", "", [
    Route("POST", "/customers/{customer}/charges", charge),
    Route("POST", "/charges/{charge}/refunds", refund),
    Route("GET", "/invoices/{invoice}", get_invoice),
    Route("POST", "/invoices/{invoice}/collections", mark_in_collections),
    Route("POST", "/invoices/{invoice}/reopen", reopen_invoice),
])

if __name__ == "__main__":
    sys.exit(serve(BILLING, default_port=8099))
