"""What an injected fault looks like to the code under test.

A failed call is the exception botocore itself raises for that error: the service's modeled class
when the code is modeled (so `except client.exceptions.ConditionalCheckFailedException` catches
it), a ClientError otherwise, with the parsed response botocore builds (Error Code and Message,
ResponseMetadata with the HTTP status). A lost reply is botocore's ConnectionClosedError, raised
after the request went out. botocore is imported only when a fault fires.
"""

from __future__ import annotations

import uuid


class InjectedFault(Exception):
    """An exception raised into the code by a `raise` rule (its handlers and `finally` blocks run)."""


# The throttling error each service answers with (its error code, HTTP status), from the services'
# API references and botocore's models. DynamoDB's data plane answers
# ProvisionedThroughputExceededException in both capacity modes; its control plane ThrottlingException.
_THROTTLING = {
    "s3": ("SlowDown", 503),
    "sqs": ("RequestThrottled", 400),
    "sns": ("Throttled", 429),
    "lambda": ("TooManyRequestsException", 429),
    "cloudwatch": ("Throttling", 400),
    "sts": ("Throttling", 400),
    "iam": ("Throttling", 400),
    "ec2": ("RequestLimitExceeded", 503),
}
_DYNAMODB_DATA = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                  "BatchWriteItem", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
                  "BatchExecuteStatement", "ExecuteTransaction"}
_DEFAULT_THROTTLING = ("ThrottlingException", 400)


def throttling(service: str, operation: str):
    """(error code, HTTP status) of the service's throttling answer to this operation."""
    if service == "dynamodb":
        return ("ProvisionedThroughputExceededException", 400) if operation in _DYNAMODB_DATA else _DEFAULT_THROTTLING
    return _THROTTLING.get(service, _DEFAULT_THROTTLING)


def _modeled_error(client, code: str):
    """The error shape the service model gives this code, or None."""
    try:
        return client.meta.service_model.shape_for_error_code(code)
    except Exception:  # an old botocore without the lookup, or a code the model does not know
        return None


def default_status(client, code: str) -> int:
    """The HTTP status the service answers this error code with: the model's, else by its name."""
    shape = _modeled_error(client, code)
    status = ((getattr(shape, "metadata", None) or {}).get("error") or {}).get("httpStatusCode") if shape else None
    if status:
        return int(status)
    if code.startswith("Internal"):
        return 500
    if code in ("ServiceUnavailable", "ServiceUnavailableException", "SlowDown"):
        return 503
    return 400


def client_error(client, operation: str, code: str, message: str = "", status=None):
    """The exception botocore raises when `operation` answers `code` (not raised here)."""
    request_id = str(uuid.uuid4())
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": int(status or default_status(client, code)),
                             "HTTPHeaders": {"x-amzn-requestid": request_id}, "RetryAttempts": 0},
    }
    shape = _modeled_error(client, code)
    for member in ("message", "Message"):  # JSON services repeat a modeled message at the top level
        if shape is not None and member in getattr(shape, "members", {}):
            response[member] = message
    return client.exceptions.from_code(code)(response, operation)


def lost_reply(client):
    """What botocore raises when the connection closes after the request was sent."""
    from botocore.exceptions import ConnectionClosedError

    return ConnectionClosedError(endpoint_url=client.meta.endpoint_url)
