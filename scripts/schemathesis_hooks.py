"""Authentication for scripts/schemathesis.sh: each operation is called with
the credential its role needs, from the environment the script sets.

Operator paths (admin, support, the sandbox's switches) take the operator
key, issuer events the issuer key, payments submitted by a merchant the
merchant key; everything else is the signed-in user's session.

Some calls would end the credentials themselves and leave the rest of the
run answering 401: sign-outs (`DELETE /v1/sessions`, `DELETE
/v1/sessions/current`) use a second person's session, and a revocation of
one of the run's own keys revokes a spare key instead.
"""

import os

import schemathesis


SIGN_OUTS = {("DELETE", "/v1/sessions"), ("DELETE", "/v1/sessions/current")}


def credential(method: str, path: str) -> str:
    if (method, path) in SIGN_OUTS:
        return os.environ["TESSERA_SPARE_USER_TOKEN"]
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
        keep = os.environ["TESSERA_KEEP_KEY_IDS"].split(",")
        if case.method.upper() == "DELETE" and case.path == "/v1/admin/keys/{id}":
            parameters = case.path_parameters or {}
            if parameters.get("id") in keep:
                case.path_parameters = dict(
                    parameters, id=os.environ["TESSERA_SPARE_KEY_ID"]
                )
        case.headers = case.headers or {}
        case.headers["Authorization"] = "Bearer " + credential(
            case.method.upper(), case.path
        )
