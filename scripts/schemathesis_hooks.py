"""Authentication for scripts/schemathesis.sh: each operation is called with
the credential its role needs, from the environment the script sets.

Operator paths (admin, support, the sandbox's switches) take the operator
key, issuer events the issuer key, payments submitted by a merchant the
merchant key; everything else is the signed-in user's session.
"""

import os

import schemathesis


def credential(method: str, path: str) -> str:
    if path.startswith(("/v1/admin", "/v1/support", "/v1/sandbox")):
        return os.environ["TESSERA_OPERATOR_KEY"]
    if path == "/v1/issuer/events":
        return os.environ["TESSERA_ISSUER_KEY"]
    if path == "/v1/payments" and method == "POST":
        return os.environ["TESSERA_MERCHANT_KEY"]
    return os.environ["TESSERA_USER_TOKEN"]


@schemathesis.auth(refresh_interval=None)
class Tessera:
    def get(self, case, context):
        return True

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = "Bearer " + credential(
            case.method.upper(), case.path
        )
