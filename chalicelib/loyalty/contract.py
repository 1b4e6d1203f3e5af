"""The loyalty routes as contract data (chalicelib.openapi turns them into the document)."""

from __future__ import annotations

from chalicelib.contract import PAGED, Items, Operation, Page, Param
from chalicelib.loyalty import api
from chalicelib.loyalty import responses as r

TAG = "loyalty"
MEMBER, POS, BACKOFFICE = ("member",), ("pos",), ("backoffice",)
GONE = (
    "ACCOUNT_MERGED: the account was merged into another one (L13, `details.merged_into`); checked right after "
    "the token, whatever the body, query or headers."
)
RECEIPT_ID = {"receipt_id": {"type": "string", "minLength": 1, "maxLength": 128}}
MEMBER_ID = {"member_id": {"type": "string"}}

OPERATIONS = (
    Operation(
        "POST", "/members", "joinProgramme", "Join the programme (L8 welcome points, L9 consent points)", TAG,
        {201: (r.Profile, "The new member's profile.")}, MEMBER, api.JoinIn,
        errors={409: "MEMBER_EXISTS", 410: GONE},
    ),
    Operation(
        "GET", "/members/me", "getProfile", "Profile, card number and points (L12)", TAG,
        {200: (r.Profile, "The profile.")}, MEMBER, errors={404: "MEMBER_NOT_FOUND", 410: GONE},
    ),
    Operation(
        "PATCH", "/members/me", "updateProfile", "Change name, address, newsletter, consent (L14); e-mail is immutable",
        TAG, {200: (r.Profile, "The updated profile.")}, MEMBER, api.ProfilePatch,
        errors={404: "MEMBER_NOT_FOUND", 409: "CONFLICT", 410: GONE, 422: "EMAIL_IMMUTABLE"},
        description="Only the fields given change; `address: null` removes the address, null elsewhere is a 400.",
    ),
    Operation(
        "GET", "/members/me/history", "listHistory", "Every change of the points, newest first (L12)", TAG,
        {200: (Page[r.HistoryEntry], "One page.")}, MEMBER, params=PAGED,
        errors={400: "INVALID_LIMIT, INVALID_CURSOR", 404: "MEMBER_NOT_FOUND", 410: GONE},
    ),
    Operation(
        "GET", "/members/me/receipts", "listReceipts", "The member's receipts with points and matures_on", TAG,
        {200: (Page[r.ReceiptSummary], "One page, newest first.")}, MEMBER, params=PAGED,
        errors={400: "INVALID_LIMIT, INVALID_CURSOR", 404: "MEMBER_NOT_FOUND", 410: GONE},
    ),
    Operation(
        "POST", "/members/me/receipts", "registerReceipt", "Register a receipt reported without a member (L5)", TAG,
        {
            200: (r.ReceiptResult, "Already registered to this member (the same result)."),
            201: (r.ReceiptResult, "Registered; its points are pending until matures_on."),
        },
        MEMBER, api.RegisterIn,
        errors={
            404: "RECEIPT_NOT_FOUND", 409: "RECEIPT_ALREADY_REGISTERED", 410: GONE, 422: "RECEIPT_NOT_ELIGIBLE",
        },
    ),
    Operation(
        "PUT", "/receipts/{receipt_id}", "putReceipt", "Report a receipt from a store or the webshop (L1-L6)", TAG,
        {200: (r.ReceiptResult, "Identical replay; the stored result."), 201: (r.ReceiptResult, "Recorded.")},
        POS, api.ReceiptIn, path_params=RECEIPT_ID,
        errors={
            400: "INVALID_REQUEST, INVALID_RECEIPT_ID, RECEIPT_ID_MISMATCH",
            404: "MEMBER_NOT_FOUND", 409: "RECEIPT_CONFLICT", 422: "a rule's code",
        },
        description="Give member_id or card_number (not both), or neither for an anonymous receipt (L5).",
    ),
    Operation(
        "POST", "/receipts/{receipt_id}/returns", "postReturn", "Return lines of a receipt (L11, C8, T12)", TAG,
        {200: (r.ReturnResult, "Replay of the same return_id; the stored answer."), 201: (r.ReturnResult, "Recorded.")},
        POS, api.ReturnIn, path_params=RECEIPT_ID,
        errors={404: "RECEIPT_NOT_FOUND", 409: "RETURN_CONFLICT", 422: "RETURN_EXCEEDS_PURCHASE"},
    ),
    Operation(
        "POST", "/backoffice/members/{member_id}/merge", "mergeMembers", "Merge an account into this one (L13)", TAG,
        {200: (r.MergeResult, "What moved.")}, BACKOFFICE, api.MergeIn, path_params=MEMBER_ID,
        errors={404: "MEMBER_NOT_FOUND", 409: "CONFLICT", 410: GONE, 422: "a rule's code"},
    ),
    Operation(
        "GET", "/backoffice/members", "findMembers", "Find members by e-mail address or loyalty card (L13)", TAG,
        {200: (Items[r.Profile], "The members found (an empty list when none).")}, BACKOFFICE,
        params=(
            Param("email", {"type": "string", "minLength": 1, "maxLength": 254}, description="Exact, any case."),
            Param("card_number", {"type": "string", "minLength": 1, "maxLength": 32}),
        ),
        errors={400: "INVALID_REQUEST"},
        description="Customer care's look-up before a merge: exactly one of `email` or `card_number`. "
        "Merged (closed) accounts are not listed.",
    ),
    Operation(
        "POST", "/backoffice/members/{member_id}/adjustments", "adjustPoints", "Adjust a member's points (L7, L10)",
        TAG, {200: (r.Adjustment, "Identical replay; the stored adjustment."), 201: (r.Adjustment, "Adjusted.")},
        BACKOFFICE, api.AdjustmentIn, path_params=MEMBER_ID,
        errors={
            404: "MEMBER_NOT_FOUND", 409: "ADJUSTMENT_CONFLICT: another body with this adjustment_id", 410: GONE,
            422: "INSUFFICIENT_POINTS (or SPEND_TOO_FRAGMENTED) for a negative adjustment",
        },
        description="`points > 0` are event points, available at once and valid 1 year (L7), paying a debt first "
        "(L11); `points < 0` take available points, soonest-expiring first (L10). History type `adjusted`, cause "
        "`adjustment:{adjustment_id}`.",
    ),
)  # fmt: skip
