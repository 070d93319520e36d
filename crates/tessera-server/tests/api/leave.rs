//! A person's right to leave: `DELETE /v1/me` closes the account with a
//! confirmation (without one nothing changes), every card's token is
//! deleted and its PAN erased (read back from the store), sessions end,
//! sign-in is refused with `account_closed`; an operator closes one with a
//! reason, kept with its key; the retention purges delete what outlived
//! its period, and only that.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::flows::housekeeping;
use tessera_server::issuer::sandbox::Outcome;
use tessera_store::{ClosedBy, UserId};

use crate::payments::set_up;
use crate::{Backend, TestServer, User, assert_error, card, purchase};

async fn close_me(
    server: &TestServer,
    user: &User,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let (status, _, body) = server
        .call(Method::DELETE, "/v1/me", Some(&user.token), None, headers)
        .await;
    (status, body)
}

async fn sign_in(server: &TestServer, user: &User, password: &str) -> (StatusCode, Value) {
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": user.phone, "password": password})),
            &[],
        )
        .await;
    (status, body)
}

/// Without a confirmation, or with one for another step, nothing changes;
/// with one, every card's token is deleted and its PAN erased, sessions
/// end, sign-in says `account_closed` (only to the right password), and a
/// retry with the same Idempotency-Key meets the first answer.
async fn closing_takes_a_confirmation_and_leaves_no_pan(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let first = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let second = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let store = &server.state().store;
    let user_id = UserId::from(user.id.clone());

    let (status, body) = close_me(&server, &user, &[]).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "verification_required",
    );
    assert_eq!(error["param"], "Tessera-Verification");
    let first_id = first["id"].as_str().unwrap();
    let for_unbind = server.confirm_unbind(&user, first_id).await;
    let (status, body) = close_me(&server, &user, &[("Tessera-Verification", &for_unbind)]).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "verification_invalid");
    assert_eq!(server.cards(&user).await.len(), 2, "nothing was closed");
    assert_eq!(
        store.user_by_id(&user_id).await.unwrap().unwrap().status,
        "active"
    );
    assert!(store.account_closure(&user_id).await.unwrap().is_none());

    let verification = server
        .confirm(&user, json!({"purpose": "close_account"}))
        .await;
    let headers = [
        ("Tessera-Verification", verification.as_str()),
        ("Idempotency-Key", "close-1"),
    ];
    let (status, closed) = close_me(&server, &user, &headers).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_by"], "self");
    assert_eq!(closed["user_id"], user.id.as_str());
    assert!(closed["reason"].is_null(), "{closed}");
    let kept_until =
        chrono::DateTime::parse_from_rfc3339(closed["records_kept_until"].as_str().unwrap())
            .unwrap();
    let closed_at =
        chrono::DateTime::parse_from_rfc3339(closed["closed_at"].as_str().unwrap()).unwrap();
    assert_eq!((kept_until - closed_at).num_days(), 5 * 365);

    for card in [&first, &second] {
        let id = card["id"].as_str().unwrap().to_owned().into();
        let row = store.card(&user_id, &id).await.unwrap().unwrap();
        assert!(!row.has_pan_ciphertext, "the PAN ciphertext is erased");
        assert_eq!(row.status.as_str(), "unbound");
        let token = row.token.expect("the token row stays, deleted");
        assert_eq!(token.status.as_str(), "deleted");
    }
    assert_eq!(
        store.user_by_id(&user_id).await.unwrap().unwrap().status,
        "closed"
    );

    // The session ended with it: the same token is refused.
    let (status, body) = server.get("/v1/me", &user.token).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = sign_in(&server, &user, "wrong-password-1").await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let (status, body) = sign_in(&server, &user, &user.password).await;
    let error = assert_error(status, &body, StatusCode::FORBIDDEN, "account_closed");
    assert!(error["remedy"].as_str().unwrap().len() > 10);

    let closure = store.account_closure(&user_id).await.unwrap().unwrap();
    assert_eq!(closure.closed_by, ClosedBy::Holder);
    assert_eq!(closure.key_id, None);
}

/// An operator closes an account with a reason: recorded with the key
/// that did it (card numbers in the reason masked); a blank reason, a
/// support key or an unknown user change nothing.
async fn an_operator_closes_an_account_with_a_reason(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let bound = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let operator = server.key("operator").await;
    let support = server.key("support").await;
    let store = &server.state().store;
    let user_id = UserId::from(user.id.clone());
    let path = format!("/v1/admin/users/{}/close", user.id);

    let (status, body) = server.post(&path, &operator, json!({"reason": "  "})).await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "reason");
    let (status, body) = server
        .post(&path, &support, json!({"reason": "fraud report"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server
        .post(
            "/v1/admin/users/usr_nobody/close",
            &operator,
            json!({"reason": "x"}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert!(store.account_closure(&user_id).await.unwrap().is_none());
    assert_eq!(server.cards(&user).await.len(), 1, "nothing was closed");

    let number = card(Outcome::Approve);
    let reason = format!("court order, card {number}");
    let (status, closed) = server
        .post(&path, &operator, json!({"reason": reason}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["closed_by"], "operator");
    let kept = closed["reason"].as_str().unwrap();
    assert!(kept.starts_with("court order, card "), "{kept}");
    assert!(
        !kept.contains(&number),
        "the card number in a reason is masked: {kept}"
    );

    let closure = store.account_closure(&user_id).await.unwrap().unwrap();
    assert_eq!(closure.closed_by, ClosedBy::Operator);
    let keys = server.get("/v1/admin/keys", &operator).await.1;
    let operator_id = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        // Oldest first: the one made for this test is the last.
        .rfind(|k| k["role"] == "operator")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(closure.key_id.as_deref(), Some(operator_id.as_str()));
    assert_eq!(closure.reason.as_deref(), Some(kept));
    let id = bound["id"].as_str().unwrap().to_owned().into();
    assert!(
        !store
            .card(&user_id, &id)
            .await
            .unwrap()
            .unwrap()
            .has_pan_ciphertext
    );
    let (status, body) = server.get("/v1/me", &user.token).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");

    // Closing again answers the first closure, unchanged.
    let (status, again) = server
        .post(&path, &operator, json!({"reason": "another reason"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["reason"], closed["reason"]);
    assert_eq!(again["closed_at"], closed["closed_at"]);
}

/// Each purge deletes what outlived its own period and nothing younger: a
/// closed account's masked payments stay until `closed_account_days`, then
/// go, and its user row keeps nothing that tells who the person was; an
/// open account's payments stay.
async fn purges_keep_each_record_for_its_own_period(backend: Backend) {
    let (server, user, _card, mut device, merchant) = set_up(backend).await;
    let signed = device.sign(&purchase(1234, "M1")).unwrap();
    let (status, body) = server.pay(&merchant, &signed.body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stays = server.user().await;
    let operator = server.key("operator").await;
    let support = server.key("support").await;
    let (status, body) = server
        .post(
            &format!("/v1/admin/users/{}/close", user.id),
            &operator,
            json!({"reason": "asked by phone"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A reset code asked for and never used: kept until its period ends.
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sms-codes",
            None,
            Some(&json!({"purpose": "reset_password", "phone": stays.phone})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let state = server.state();
    let now = server.now();
    let day = chrono::TimeDelta::days(1);
    let records = async |id: &str| -> usize {
        let (status, body) = server
            .get(&format!("/v1/support/users/{id}/transactions"), &support)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().unwrap().len()
    };
    assert_eq!(records(&user.id).await, 1, "the masked payment is kept");

    // Nothing is old enough to go now; two days on, only the code.
    let purged = housekeeping::purge_retained(state, now).await.unwrap();
    assert_eq!(purged, tessera_store::PurgedRecords::default());
    let purged = housekeeping::purge_retained(state, now + day * 2)
        .await
        .unwrap();
    assert_eq!(purged.sms_codes, 1, "{purged:?}");
    assert_eq!(
        (purged.sessions, purged.attempts, purged.closed_accounts),
        (0, 0, 0)
    );
    // A month on: the sessions that expired (the open account's).
    let purged = housekeeping::purge_retained(state, now + day * 31)
        .await
        .unwrap();
    assert!(purged.sessions >= 1, "{purged:?}");
    assert_eq!((purged.attempts, purged.closed_accounts), (0, 0));
    // Half a year on: the binding attempts.
    let purged = housekeeping::purge_retained(state, now + day * 181)
        .await
        .unwrap();
    assert!(purged.attempts >= 1, "{purged:?}");
    assert_eq!(purged.closed_accounts, 0);
    assert_eq!(
        records(&user.id).await,
        1,
        "kept for the closed account's period"
    );

    let purged = housekeeping::purge_retained(state, now + day * (5 * 365 + 1))
        .await
        .unwrap();
    assert_eq!(purged.closed_accounts, 1, "{purged:?}");
    assert_eq!(
        records(&user.id).await,
        0,
        "the closed account's payment is gone"
    );
    let scrubbed = state
        .store
        .user_by_id(&UserId::from(user.id.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(scrubbed.phone, format!("closed:{}", user.id));
    assert!(scrubbed.real_name.is_empty() && scrubbed.id_number_hash.is_empty());
    let closure = state
        .store
        .account_closure(&UserId::from(user.id.clone()))
        .await
        .unwrap()
        .unwrap();
    assert!(closure.purged_at.is_some());
    let open = state
        .store
        .user_by_id(&UserId::from(stays.id.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (open.status.as_str(), open.phone.as_str()),
        ("active", stays.phone.as_str())
    );
    // Purged once: a second run finds nothing more.
    let purged = housekeeping::purge_retained(state, now + day * (5 * 365 + 2))
        .await
        .unwrap();
    assert_eq!(purged.closed_accounts, 0);
}

on_both_backends!(
    closing_takes_a_confirmation_and_leaves_no_pan,
    an_operator_closes_an_account_with_a_reason,
    purges_keep_each_record_for_its_own_period,
);
