"""The trade-in routes as contract data (chalicelib.openapi turns them into the document)."""

from __future__ import annotations

from chalicelib.contract import PAGED, Operation, Page, Param
from chalicelib.tradein import api, backoffice_api
from chalicelib.tradein import responses as r
from chalicelib.tradein.rules import STATUSES

PUBLIC, BACKOFFICE = "tradein", "backoffice-tradein"
BO = ("backoffice",)
CLAIM = {"claim_number": {"type": "string"}}
POSTCODE = Param("postcode", {"type": "string"}, True, "The participant's postcode (T14).")

OPERATIONS = (
    Operation(
        "GET", "/tradein/campaigns", "listOpenCampaigns", "Campaigns open for registration or with claims in progress",
        PUBLIC, {200: (Page[r.Campaign], "The campaigns with their terms (never paged: next_cursor is null).")},
    ),
    Operation(
        "POST", "/tradein/claims", "registerClaim", "Register a claim (T1-T5, T13)", PUBLIC,
        {
            201: (r.Registered, "The claim, waiting for its proof of purchase, and where to upload it."),
            200: (r.Registered, "A retry of the same registration: the same claim (a fresh upload while it waits)."),
        },
        request=api.RegistrationIn,
        errors={
            404: "CAMPAIGN_NOT_FOUND, RECEIPT_NOT_FOUND", 409: "ADDRESS_ALREADY_CLAIMED, PURCHASE_ALREADY_CLAIMED",
            422: "PURCHASE_NOT_ELIGIBLE, OUTSIDE_REGISTRATION_WINDOW, PARTICIPANT_NOT_ELIGIBLE, DECLARATION_MISSING, "
            "DEVICE_NOT_ELIGIBLE",
        },
    ),
    Operation(
        "GET", "/tradein/claims/{claim_number}", "trackClaim", "Follow a claim (T14)", PUBLIC,
        {200: (r.Tracking, "Status, timeline and deadlines; no personal data.")}, params=(POSTCODE,),
        path_params=CLAIM, errors={400: "POSTCODE_REQUIRED", 404: "CLAIM_NOT_FOUND (also for a wrong postcode)"},
    ),
    Operation(
        "PATCH", "/tradein/claims/{claim_number}", "completeClaim", "Complete an incomplete claim (T7)", PUBLIC,
        {200: (r.Tracking, "The completed claim, now `awaiting_device` (a retry answers the same).")},
        request=api.CompletionIn, path_params=CLAIM,
        errors={
            404: "CLAIM_NOT_FOUND", 409: "ILLEGAL_TRANSITION: the claim is not `incomplete`",
            422: "COMPLETION_DEADLINE_PASSED, DATA_STILL_MISSING, PARTICIPANT_NOT_ELIGIBLE",
        },
    ),
    Operation(
        "POST", "/tradein/claims/{claim_number}/upload", "freshUpload", "A fresh presigned upload for the proof",
        PUBLIC, {200: (r.FreshUpload, "A new upload while the claim waits for its proof.")}, request=api.UploadIn,
        path_params=CLAIM,
        errors={
            404: "CLAIM_NOT_FOUND", 409: "PROOF_ALREADY_RECEIVED, ILLEGAL_TRANSITION",
            422: "OUTSIDE_REGISTRATION_WINDOW",
        },
    ),
    Operation(
        "POST", "/tradein/claims/{claim_number}/return-request", "requestReturn",
        "Ask for the old laptop back after a rejection (T10)", PUBLIC,
        {200: (r.Tracking, "The claim, now `return_requested` (a retried request answers the same).")},
        request=api.PostcodeIn, path_params=CLAIM,
        errors={
            404: "CLAIM_NOT_FOUND", 409: "ILLEGAL_TRANSITION",
            422: "RETURN_REQUEST_TOO_LATE, RETURN_REQUEST_NOT_ALLOWED",
        },
    ),
    Operation(
        "GET", "/backoffice/claims", "listClaims", "Claims with masked personal data and fraud flags (T13, T15)",
        BACKOFFICE, {200: (Page[r.BackofficeClaim], "One page of claims.")}, BO,
        params=(
            Param("status", {"type": "string", "enum": list(STATUSES)}),
            Param(
                "q", {"type": "string", "maxLength": 254},
                description="A claim number, receipt id or the participant's e-mail (exact, case-insensitive).",
            ),
            *PAGED,
        ),
        errors={400: "INVALID_STATUS, INVALID_QUERY, INVALID_LIMIT, INVALID_CURSOR"},
    ),
    Operation(
        "GET", "/backoffice/claims/{claim_number}", "getClaim", "One claim for its handler (T13, T15)", BACKOFFICE,
        {200: (r.BackofficeClaimDetail, "Status, the whole timeline, flags, deadlines, masked data, laptop, proof.")},
        BO, path_params=CLAIM, errors={404: "CLAIM_NOT_FOUND"},
    ),
    Operation(
        "POST", "/backoffice/claims/{claim_number}/device-received", "deviceReceived",
        "The old laptop arrived (T8; after day 60 the claim is rejected)", BACKOFFICE,
        {200: (r.BackofficeClaim, "The claim, `device_received` or (late) `rejected`.")}, BO, api.DeviceReceivedIn,
        path_params=CLAIM, errors={404: "CLAIM_NOT_FOUND", 409: "ILLEGAL_TRANSITION", 422: "a rule's code"},
    ),
    Operation(
        "POST", "/backoffice/claims/{claim_number}/inspection", "inspectClaim", "Record the inspection outcome (T9)",
        BACKOFFICE, {200: (r.BackofficeClaim, "The claim after inspection; the participant has been e-mailed.")},
        BO, api.InspectionIn, path_params=CLAIM,
        errors={404: "CLAIM_NOT_FOUND", 409: "ILLEGAL_TRANSITION", 422: "INVALID_REWARD"},
    ),
    Operation(
        "POST", "/backoffice/claims/{claim_number}/disqualify", "disqualifyClaim", "Disqualify a claim; final (T13)",
        BACKOFFICE, {200: (r.BackofficeClaim, "The claim, now `disqualified`.")}, BO, api.ReasonIn,
        path_params=CLAIM, errors={404: "CLAIM_NOT_FOUND", 409: "ILLEGAL_TRANSITION"},
    ),
    Operation(
        "GET", "/backoffice/payouts", "listPayouts", "Payout batches with a link to their pain.001 file (T11)",
        BACKOFFICE, {200: (Page[r.PayoutBatch], "Batches, newest first.")}, BO, params=PAGED,
        errors={400: "INVALID_LIMIT, INVALID_CURSOR"},
    ),
    Operation(
        "POST", "/backoffice/payouts/{batch_id}/failed", "payoutFailed",
        "The bank refused a batch; its claims go into the next one (T11)", BACKOFFICE,
        {200: (r.PayoutBatch, "The batch, now failed.")}, BO, api.ReasonIn,
        path_params={"batch_id": {"type": "string"}}, errors={404: "BATCH_NOT_FOUND", 409: "BATCH_NOT_SCHEDULED"},
    ),
    Operation(
        "GET", "/backoffice/campaigns", "listCampaigns", "Every campaign with its claim counts by status (G5)",
        BACKOFFICE, {200: (Page[r.BackofficeCampaign], "One page of campaigns, by id.")}, BO, params=PAGED,
        errors={400: "INVALID_LIMIT, INVALID_CURSOR"},
    ),
    Operation(
        "PUT", "/backoffice/campaigns/{campaign_id}", "putCampaign", "Create or change a campaign (G5)", BACKOFFICE,
        {201: (r.Campaign, "Created."), 200: (r.Campaign, "Changed, or an identical replay (the same answer).")},
        BO, backoffice_api.CampaignTermsIn, request_required=False,
        path_params={"campaign_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,63}$"}},
        errors={
            409: "CAMPAIGN_HAS_CLAIMS: the change alters a term existing claims rely on (`details.terms`)",
            422: "CAMPAIGN_TERMS_INVALID with `details.problems: [{field, reason}]`",
        },
        description="Every term left out takes the value of the seed 001 campaign. A PUT replaces all terms.",
    ),
)  # fmt: skip
