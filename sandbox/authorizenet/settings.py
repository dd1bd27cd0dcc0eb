"""Constants of the Authorize.Net stand-in: the endpoint, the XSD's element order, codes and texts.

Constants only (no logic). The element sequences are those of `AnetApiSchema.xsd` (AuthorizeNet/sdk-python
`script/AnetApiSchema.xsd`, completed with the newer elements the live API lists in its E00003 messages) for
the requests this stand-in serves; an element's type is a simple type (`str:<max>`, `str:<min>-<max>`,
`decimal`, `int:<min>-<max>`, `bool`, `dateTime`, `numeric`, `enum:a|b`), another sequence by name, or
`any` (accepted without a look inside). A leading `*` marks a required element, a trailing `[]` one that may
repeat, and `choice:` a choice of one of the listed elements.
"""

from __future__ import annotations

__all__ = [
    "ACCOUNT_TYPES",
    "API_PATH",
    "DUPLICATE_WINDOW",
    "EVENT_TYPES",
    "JSON_CT",
    "LOCAL_OFFSET",
    "MAX_RANGE_SECONDS",
    "MESSAGES",
    "NAMESPACE",
    "REASONS",
    "REQUESTS",
    "REST_PREFIX",
    "TYPES",
]

API_PATH = "/xml/v1/request.api"
REST_PREFIX = "/rest/v1"
NAMESPACE = "AnetApi/xml/v1/schema/AnetApiSchema.xsd"
JSON_CT = "application/json; charset=utf-8"

#: The merchant's local time (settlementTimeLocal, submitTimeLocal): Pacific, without daylight saving.
LOCAL_OFFSET = -8 * 3600
#: Seconds within which the same transaction is refused as a duplicate (Authorize.Net's default, 2 minutes).
DUPLICATE_WINDOW = 120
MAX_RANGE_SECONDS = 31 * 86_400

_BASE = ["*merchantAuthentication merchantAuthenticationType", "clientId str:30", "refId str:20"]

#: Request name -> its element sequence (the ANetApiRequest base first).
REQUESTS: dict[str, list[str]] = {
    "authenticateTestRequest": _BASE,
    "createTransactionRequest": _BASE + ["*transactionRequest transactionRequestType"],
    "getSettledBatchListRequest": _BASE
    + ["includeStatistics bool", "firstSettlementDate dateTime", "lastSettlementDate dateTime"],
    "getTransactionListRequest": _BASE
    + ["*batchId numeric", "sorting TransactionListSorting", "paging Paging"],
    "getUnsettledTransactionListRequest": _BASE
    + ["status enum:any|pendingApproval", "sorting TransactionListSorting", "paging Paging"],
    "getTransactionDetailsRequest": _BASE + ["*transId numeric"],
}

#: Complex type -> its element sequence.
TYPES: dict[str, list[str]] = {
    "merchantAuthenticationType": [
        "name str:25",
        "choice:*transactionKey str:16|sessionToken any|password str:40|impersonationAuthentication any"
        "|fingerPrint any|clientKey any|accessToken any",
        "mobileDeviceId str:60",
    ],
    "transactionRequestType": [
        "*transactionType str:50",
        "amount decimal",
        "currencyCode str:3",
        "payment paymentType",
        "profile any",
        "solution any",
        "callId any",
        "terminalNumber any",
        "authCode str:6",
        "refTransId str:20",
        "splitTenderId any",
        "order orderType",
        "lineItems ArrayOfLineItem",
        "tax extendedAmountType",
        "duty extendedAmountType",
        "shipping extendedAmountType",
        "taxExempt bool",
        "poNumber str:25",
        "customer customerDataType",
        "billTo customerAddressType",
        "shipTo nameAndAddressType",
        "customerIP str:15",
        "cardholderAuthentication any",
        "retail any",
        "employeeId any",
        "transactionSettings ArrayOfSetting",
        "userFields any",
        "surcharge any",
        "merchantDescriptor any",
        "subMerchant any",
        "tip extendedAmountType",
        "processingOptions any",
        "subsequentAuthInformation any",
        "otherTax any",
        "shipFrom any",
        "authorizationIndicatorType any",
    ],
    "paymentType": [
        "choice:*creditCard creditCardType|bankAccount any|trackData any|encryptedTrackData any|payPal any"
        "|opaqueData any|emv any"
    ],
    "creditCardType": [
        "*cardNumber str:4-16",
        "*expirationDate str:4-7",
        "cardCode str:3-4",
        "isPaymentToken bool",
        "cryptogram any",
        "tokenRequestorName any",
        "tokenRequestorId any",
        "tokenRequestorEci any",
    ],
    "orderType": [
        "invoiceNumber str:20",
        "description str:255",
        "discountAmount decimal",
        "taxIsAfterDiscount bool",
        "totalTaxTypeCode any",
        "purchaserVATRegistrationNumber any",
        "merchantVATRegistrationNumber any",
        "vatInvoiceReferenceNumber any",
        "purchaserCode any",
        "summaryCommodityCode any",
        "purchaseOrderDateUTC any",
        "supplierOrderReference any",
        "authorizedContactName any",
        "cardAcceptorRefNumber any",
        "amexDataTAA1 any",
        "amexDataTAA2 any",
        "amexDataTAA3 any",
        "amexDataTAA4 any",
    ],
    "ArrayOfLineItem": ["lineItem[] lineItemType"],
    "lineItemType": [
        "*itemId str:1-31",
        "*name str:1-31",
        "description str:255",
        "*quantity decimal",
        "*unitPrice decimal",
        "taxable bool",
        "unitOfMeasure any",
        "typeOfSupply any",
        "taxRate any",
        "taxAmount any",
        "nationalTax any",
        "localTax any",
        "vatRate any",
        "alternateTaxId any",
        "alternateTaxType any",
        "alternateTaxTypeApplied any",
        "alternateTaxRate any",
        "alternateTaxAmount any",
        "totalAmount any",
        "commodityCode any",
        "productCode any",
        "productSKU any",
        "discountRate any",
        "discountAmount any",
        "taxIncludedInTotal any",
        "taxIsAfterDiscount any",
    ],
    "extendedAmountType": ["*amount decimal", "name str:31", "description str:255"],
    "customerDataType": [
        "type enum:individual|business",
        "id str:20",
        "email str:255",
        "driversLicense any",
        "taxId str:8-9",
    ],
    "nameAndAddressType": [
        "firstName str:50",
        "lastName str:50",
        "company str:50",
        "address str:60",
        "city str:40",
        "state str:40",
        "zip str:20",
        "country str:60",
    ],
    "customerAddressType": [
        "firstName str:50",
        "lastName str:50",
        "company str:50",
        "address str:60",
        "city str:40",
        "state str:40",
        "zip str:20",
        "country str:60",
        "phoneNumber str:25",
        "faxNumber str:25",
        "email str:255",
    ],
    "ArrayOfSetting": ["setting[] settingType"],
    "settingType": ["settingName str:100", "settingValue str:1000"],
    "TransactionListSorting": ["*orderBy enum:id|submitTimeUTC", "*orderDescending bool"],
    "Paging": ["*limit int:1-1000", "*offset int:1-100000"],
}

#: The API's result messages (developer.authorize.net/api/reference/responseCodes.html).
MESSAGES = {
    "I00001": "Successful.",
    "I00004": "No records found.",
    "E00001": "An error occurred during processing. Please try again.",
    "E00002": "The content-type specified is not supported.",
    "E00003": "An error occurred while parsing the XML request.",
    "E00007": "User authentication failed due to invalid authentication values.",
    "E00013": "Field is invalid.",
    "E00027": "The transaction was unsuccessful.",
    "E00040": "The record cannot be found.",
}

#: Transaction response reason codes: code -> (responseCode, text).
REASONS = {
    1: ("1", "This transaction has been approved."),
    2: ("2", "This transaction has been declined."),
    3: ("2", "This transaction has been declined."),
    4: ("2", "This transaction has been declined."),
    5: ("3", "A valid amount is required."),
    6: ("3", "The credit card number is invalid."),
    7: ("3", "Credit card expiration date is invalid."),
    8: ("3", "The credit card has expired."),
    11: ("3", "A duplicate transaction has been submitted."),
    16: ("3", "The transaction cannot be found."),
    27: ("2", "The transaction has been declined because of an AVS mismatch."),
    33: ("3", "Credit card number cannot be left blank."),
    39: (
        "3",
        "The supplied currency code is either invalid, not supported, not allowed for this merchant or "
        "doesn't have an exchange rate.",
    ),
    47: ("3", "The amount requested for settlement cannot be greater than the original amount authorized."),
    54: ("3", "The referenced transaction does not meet the criteria for issuing a credit."),
    55: ("3", "The sum of credits against the referenced transaction would exceed original debit amount."),
    65: ("2", "This transaction has been declined."),
    70: ("3", "The transaction type is invalid."),
    310: ("1", "This transaction has already been voided."),
    311: ("1", "This transaction has already been captured."),
}

#: The ledger's card brands as Authorize.Net names them (`accountType`).
ACCOUNT_TYPES = {
    "visa": "Visa",
    "mastercard": "MasterCard",
    "amex": "AmericanExpress",
    "discover": "Discover",
}

#: Webhook event types, as Authorize.Net names them.
EVENT_TYPES = (
    "net.authorize.payment.authcapture.created",
    "net.authorize.payment.authorization.created",
    "net.authorize.payment.capture.created",
    "net.authorize.payment.priorAuthCapture.created",
    "net.authorize.payment.refund.created",
    "net.authorize.payment.void.created",
    "net.authorize.payment.fraud.held",
    "net.authorize.payment.fraud.approved",
    "net.authorize.payment.fraud.declined",
    "net.authorize.customer.created",
    "net.authorize.customer.deleted",
    "net.authorize.customer.updated",
)
