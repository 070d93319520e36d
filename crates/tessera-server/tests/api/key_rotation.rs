//! Key rotation under load: a rotation while cards are being bound (each
//! binding succeeds or is refused as retryable, never sealed under the old
//! key once the rotation is in), re-encryption of every sealed value,
//! retirement refused while a record uses the version, a node that has not
//! learnt the rotation refused, and no key material in any answer or log.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_core::vault::{KeyRing, Sealed};
use tessera_server::flows::audit::Actor;
use tessera_server::flows::key_rotation;
use tessera_server::issuer::sandbox::Outcome;
use tessera_store::vault_keys::SealedTable;
use tessera_store::{ApiKeyRecord, StoreError};

use crate::{Backend, TestServer, User, assert_error, card, log_buffer};

/// Binds `number`, retrying while the answer is `key_version_stale` (which
/// must say it is retryable); returns the card and how many were refused.
async fn bind_retrying(server: &TestServer, user: &User, number: &str) -> (Value, u32) {
    let mut refused = 0;
    loop {
        let (status, body) = server.bind(user, number).await;
        if status == StatusCode::CREATED {
            return (body, refused);
        }
        let error = assert_error(
            status,
            &body,
            StatusCode::SERVICE_UNAVAILABLE,
            "key_version_stale",
        );
        assert_eq!(error["retryable"], true, "{body}");
        refused += 1;
        assert!(refused < 20, "still refused after {refused} tries: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (bounded) until re-encryption reports it has finished.
async fn rotation_finished(server: &TestServer) -> Value {
    for _ in 0..300 {
        let (status, body) = server
            .get("/v1/admin/keys/rotation", &server.operator_key)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["finished"] == true {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("re-encryption did not finish");
}

/// Every sealed value of every table opens under `keys` and is sealed
/// under `version`.
async fn all_sealed_under(server: &TestServer, keys: &KeyRing, version: u32) -> usize {
    let store = server.state().store.as_ref();
    let mut seen = 0;
    for table in SealedTable::ALL {
        // Rows under any version but 0 (none): all of them.
        let rows = store.sealed_batch(table, "", 0, 10_000).await.unwrap();
        for row in rows {
            assert_eq!(row.sealed.key_version, version, "{table:?} {}", row.record);
            keys.open_bytes(key_rotation::context(table), &row.record, &row.sealed)
                .unwrap();
            seen += 1;
        }
    }
    seen
}

/// The wrapped keys, in the forms they could leak in.
async fn wrapped_forms(server: &TestServer) -> Vec<String> {
    use base64::Engine;
    let stored = server.state().store.vault_data_keys().await.unwrap();
    stored
        .iter()
        .filter(|key| !key.wrapped.is_empty())
        .flat_map(|key| {
            [
                hex::encode(&key.wrapped),
                base64::engine::general_purpose::STANDARD.encode(&key.wrapped),
            ]
        })
        .collect()
}

async fn a_rotation_under_binding_loses_nothing_and_reseals_everything(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let mut users = Vec::new();
    for _ in 0..4 {
        users.push(server.user().await);
    }
    for user in &users {
        let (status, body) = server.bind(user, &card(Outcome::Approve)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, before) = server
        .get("/v1/admin/keys/rotation", &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["active_version"], 1, "{before}");

    // Bindings and the rotation at once.
    let numbers: Vec<String> = (0..8).map(|_| card(Outcome::Approve)).collect();
    let bindings = futures_util::future::join_all(
        numbers
            .iter()
            .enumerate()
            .map(|(i, number)| bind_retrying(&server, &users[i % users.len()], number)),
    );
    let rotate = server.post("/v1/admin/keys/rotate", &server.operator_key, json!({}));
    let (bound, (status, rotated)) = tokio::join!(bindings, rotate);
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert_eq!(rotated["version"], 2, "{rotated}");
    assert_eq!(rotated["rotation"]["active_version"], 2, "{rotated}");
    assert_eq!(bound.len(), numbers.len());

    // Bound after the rotation was answered: under version 2 at once.
    let user = server.user().await;
    let (late, _) = bind_retrying(&server, &user, &card(Outcome::Approve)).await;
    let late_id = late["id"].as_str().unwrap().to_owned();
    let rows = server
        .state()
        .store
        .sealed_batch(SealedTable::Cards, "", 2, 10_000)
        .await
        .unwrap();
    assert!(
        rows.iter().all(|row| row.record != late_id),
        "a card bound after the rotation is sealed under an old version"
    );

    let finished = rotation_finished(&server).await;
    assert_eq!(finished["records_left"], 0, "{finished}");
    let versions = finished["versions"].as_array().unwrap();
    assert_eq!(versions[0]["state"], "retiring", "{finished}");
    assert_eq!(versions[0]["records"], 0, "{finished}");
    assert_eq!(versions[1]["state"], "active", "{finished}");
    // Four cards before, eight during, one after: a PAN and a token PAN each.
    let sealed = all_sealed_under(&server, &server.state().keys, 2).await;
    assert!(sealed >= 26, "{sealed} sealed values");
    assert_eq!(versions[1]["records"], sealed as u64, "{finished}");

    // No key, wrapped or not, in an answer or the log.
    let shown = format!("{before}{rotated}{finished}");
    let logs = String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned();
    for form in wrapped_forms(&server).await {
        assert!(!shown.contains(&form), "a wrapped key in an answer");
        assert!(!logs.contains(&form), "a wrapped key in the log");
    }
    assert!(!shown.contains("wrapped"), "{shown}");
}

async fn retiring_waits_until_no_record_uses_the_version(backend: Backend) {
    // Re-encryption runs only when this test says so.
    let server = TestServer::start_on(backend, |config| config.vault.refresh_secs = 3600).await;
    let user = server.user().await;
    let (status, body) = server.bind(&user, &card(Outcome::Approve)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, second) = server.bind(&user, &card(Outcome::Approve)).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let state = server.state().clone();
    let version = key_rotation::rotate(&state, Actor::service("req_test_rotate"))
        .await
        .unwrap();
    assert_eq!(version, 2);

    let retire = |version: u32| {
        server.post(
            "/v1/admin/keys/retire",
            &server.operator_key,
            json!({ "version": version }),
        )
    };
    // The cards' PANs and their tokens' PANs still use version 1.
    let (status, body) = retire(1).await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("4 records") || message.contains("4 条记录"),
        "{body}"
    );
    let (status, body) = retire(2).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let (status, body) = retire(9).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    // Refused, nothing changed: version 1 still opens the card.
    assert!(state.keys.has_version(1));
    assert_eq!(all_sealed_under(&server, &state.keys, 1).await, 4);
    // Erasing a value sealed under the old version is no sealing write:
    // unbinding the second card works before re-encryption reaches it.
    let (status, body) = server.unbind(&user, second["id"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Only operators.
    let (status, body) = server
        .post(
            "/v1/admin/keys/retire",
            &server.support_key,
            json!({ "version": 1 }),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server
        .post("/v1/admin/keys/rotate", &server.support_key, json!({}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");

    key_rotation::reencrypt_until_done(state.clone()).await;
    let left = all_sealed_under(&server, &state.keys, 2).await;
    assert!((2..4).contains(&left), "{left} sealed values");
    let (status, body) = retire(1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["versions"][0]["state"], "retired", "{body}");
    assert!(!state.keys.has_version(1));
    // Cards bound before the rotation still work: bind another, list all.
    let (status, body) = server.bind(&user, &card(Outcome::Approve)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cards = server.cards(&user).await;
    assert!(cards.iter().any(|c| c["id"] == body["id"]), "{cards:?}");
}

/// A sealing write under an older version than the active one: what a
/// node that has not learnt the rotation would write.
async fn stale_write(server: &TestServer, stale: &KeyRing) -> Result<(), StoreError> {
    let id = format!("key_stale_{}", tessera_server::ids::request_id());
    let sealed: Sealed = stale
        .seal_bytes("api_key_signing_secret", &id, b"secret")
        .unwrap();
    server
        .state()
        .store
        .create_api_key(&ApiKeyRecord {
            id: id.clone(),
            key_hash: id,
            role: "issuer".to_owned(),
            label: "stale".to_owned(),
            holder: "tests".to_owned(),
            scope: vec!["ABC".to_owned()],
            signing_secret: Some((sealed.key_version, sealed.blob)),
            created_at: server.now(),
            revoked_at: None,
        })
        .await
}

async fn a_node_that_has_not_learnt_the_rotation_refuses_to_seal(backend: Backend) {
    let slow = |config: &mut tessera_server::Config| config.vault.refresh_secs = 3600;
    let server = TestServer::start_on(backend, slow).await;
    let stale = (*server.state().keys).clone();
    let (status, rotated) = server
        .post("/v1/admin/keys/rotate", &server.operator_key, json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert!(matches!(
        stale_write(&server, &stale).await,
        Err(StoreError::KeyVersionStale)
    ));
    // The node itself seals under the new version.
    stale_write(&server, &server.state().keys).await.unwrap();

    // A second node on the same PostgreSQL database, started before the
    // rotation, learns it without a restart.
    let (Backend::Postgres, Some(database)) = (backend, &server.database) else {
        return;
    };
    let mut config = tessera_server::Config::new_for_test(server.data_dir());
    config.database_url = Some(database.url().to_owned());
    config.node_id = "node-b".to_owned();
    slow(&mut config);
    let node_b = tessera_server::start(tessera_server::open(config).await.unwrap().state)
        .await
        .unwrap();
    assert_eq!(node_b.state.keys.active_version(), 2);
    // Another rotation, at node A: node B does not know version 3.
    let (status, rotated) = server
        .post("/v1/admin/keys/rotate", &server.operator_key, json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert_eq!(node_b.state.keys.active_version(), 2);
    let user = server.user().await;
    let at_b = TestServer {
        base: node_b.base_url(),
        client: server.client.clone(),
        server: None,
        dir: tempfile::tempdir().unwrap(),
        operator_key: server.operator_key.clone(),
        support_key: server.support_key.clone(),
        backend,
        database: None,
        clock: server.clock.clone(),
    };
    let (status, body) = at_b.bind(&user, &card(Outcome::Approve)).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "key_version_stale",
    );
    assert_eq!(error["retryable"], true, "{body}");
    // The refusal made node B read the versions: the retry is sealed under 3.
    let (bound, _) = bind_retrying(&at_b, &user, &card(Outcome::Approve)).await;
    assert_eq!(node_b.state.keys.active_version(), 3);
    let card_id = bound["id"].as_str().unwrap();
    let left = server
        .state()
        .store
        .sealed_batch(SealedTable::Cards, "", 3, 10_000)
        .await
        .unwrap();
    assert!(left.iter().all(|row| row.record != card_id));

    // And when node B meets a value under a version it lacks (a rotation
    // at A, version 4, and a value A sealed under it), it reads the
    // versions by itself, without a refusal and long before its interval.
    let (status, rotated) = server
        .post("/v1/admin/keys/rotate", &server.operator_key, json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let context = key_rotation::context(SealedTable::ApiKeys);
    let sealed = server
        .state()
        .keys
        .seal_bytes(context, "key_probe", b"probe")
        .unwrap();
    assert_eq!(sealed.key_version, 4);
    assert!(
        node_b
            .state
            .keys
            .open_bytes(context, "key_probe", &sealed)
            .is_err()
    );
    for _ in 0..200 {
        if node_b.state.keys.active_version() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(node_b.state.keys.active_version(), 4);
    node_b
        .state
        .keys
        .open_bytes(context, "key_probe", &sealed)
        .unwrap();
    node_b.stop().await.unwrap();
}

on_both_backends!(
    a_rotation_under_binding_loses_nothing_and_reseals_everything,
    retiring_waits_until_no_record_uses_the_version,
    a_node_that_has_not_learnt_the_rotation_refuses_to_seal,
);
