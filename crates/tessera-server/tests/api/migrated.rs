//! Data written before a secret had a key of its own: sign-in passwords
//! peppered with the payment-password key, and the key ring check value
//! made under the API-key key. Both are still read, and moved to their own
//! key when it can be done.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_core::vault::{KeyRing, LookupPurpose};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::passwords::{self, PasswordCheck};
use tessera_store::UserId;

use crate::{Backend, TestServer, assert_error, card};

/// Argon2id at the sign-in profile under `pepper`, without a `keyid`: the
/// PHC string sign-in stored before the sign-in pepper existed.
fn argon2_with(keys: &KeyRing, pepper: LookupPurpose) -> Argon2<'_> {
    Argon2::new_with_secret(
        keys.lookup_key(pepper)
            .expose_secret()
            .unwrap()
            .expose_bytes(),
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).unwrap(),
    )
    .unwrap()
}

async fn stored_hash(server: &TestServer, user_id: &str) -> String {
    let id = UserId::from(user_id.to_owned());
    let user = server.state().store.user_by_id(&id).await.unwrap().unwrap();
    user.password_hash
}

async fn failures(server: &TestServer, phone: &str) -> u32 {
    let key = tessera_server::flows::users::sign_in_key(server.state(), phone);
    let counted = server.state().store.login_failures(&key).await.unwrap();
    counted.map_or(0, |f| f.failures)
}

async fn sign_in(server: &TestServer, phone: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({"phone": phone, "password": password});
    let (status, _, body) = server
        .call(Method::POST, "/v1/sessions", None, Some(&body), &[])
        .await;
    (status, body)
}

async fn an_old_pepper_password_signs_in_and_moves_to_the_sign_in_pepper(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let keys = server.state().keys.clone();
    // The user's hash as sign-in made it before: the payment-password pepper.
    let legacy = argon2_with(&keys, LookupPurpose::PaymentPasswordPepper)
        .hash_password_with_salt(user.password.as_bytes(), &[9u8; 16])
        .unwrap()
        .to_string();
    let current = stored_hash(&server, &user.id).await;
    let id = UserId::from(user.id.clone());
    assert!(
        server
            .state()
            .store
            .rehash_password(&id, &current, &legacy)
            .await
            .unwrap()
    );
    assert_eq!(stored_hash(&server, &user.id).await, legacy);

    // A wrong password is refused, counted, and moves nothing.
    let (status, body) = sign_in(&server, &user.phone, "wrong-pass-1").await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    assert_eq!(failures(&server, &user.phone).await, 1);
    assert_eq!(stored_hash(&server, &user.id).await, legacy);

    // The right one signs in, and the hash is made again with the sign-in
    // pepper: the old pepper no longer verifies it.
    let (status, body) = sign_in(&server, &user.phone, &user.password).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(failures(&server, &user.phone).await, 1, "given back");
    let moved = stored_hash(&server, &user.id).await;
    assert_ne!(moved, legacy);
    assert!(moved.contains(",keyid=c2lnbmlu$"), "{moved}");
    let parsed = PasswordHash::new(&moved).unwrap();
    let password = user.password.as_bytes();
    for (pepper, verifies) in [
        (LookupPurpose::SignInPepper, true),
        (LookupPurpose::PaymentPasswordPepper, false),
    ] {
        let argon = argon2_with(&keys, pepper);
        assert_eq!(
            argon.verify_password(password, &parsed).is_ok(),
            verifies,
            "{pepper:?}"
        );
    }
    let mut memory = passwords::Argon2Memory::default();
    assert_eq!(
        passwords::check_password_with(&mut memory, &keys, &user.password, &moved),
        PasswordCheck::Right
    );

    // Again: signed in, nothing rewritten; a wrong password is still counted.
    let (status, body) = sign_in(&server, &user.phone, &user.password).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(stored_hash(&server, &user.id).await, moved);
    let (status, body) = sign_in(&server, &user.phone, "wrong-pass-2").await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    assert_eq!(failures(&server, &user.phone).await, 2);
}

/// Reopens the stopped server's data directory (and database) as a new
/// node would: the opened state, or why it refused.
async fn reopen(
    dir: &tempfile::TempDir,
    database: Option<&tessera_server::test_support::TestDatabase>,
) -> Result<tessera_server::RunningServer, String> {
    let mut config = tessera_server::Config::new_for_test(dir.path().join("data"));
    config.database_url = database.map(|d| d.url().to_owned());
    let opened = tessera_server::open(config)
        .await
        .map_err(|e| e.to_string())?;
    tessera_server::start(opened.state)
        .await
        .map_err(|e| e.to_string())
}

async fn a_database_with_the_old_key_ring_check_still_opens(backend: Backend) {
    let mut server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, bound) = server.bind(&user, &card(Outcome::Approve)).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let keys = server.state().keys.clone();
    let store = server.state().store.clone();
    let name = tessera_server::KEY_RING_CHECK;
    assert_eq!(
        store.setting(name).await.unwrap().as_deref(),
        Some(keys.key_ring_check().as_str())
    );
    // What a node wrote before the check value had its own key.
    let legacy =
        hex::encode(&keys.keyed_hash(LookupPurpose::ApiKey, b"tessera key ring check v1")[..8]);
    assert_ne!(legacy, keys.key_ring_check());
    store
        .put_setting(name, &legacy, server.now())
        .await
        .unwrap();
    drop(store);
    let database = server.database.take();
    let dir = server.stop().await;

    // It opens, serves the card bound before, and holds the new value.
    let node = reopen(&dir, database.as_ref()).await.unwrap();
    assert_eq!(
        node.state.store.setting(name).await.unwrap().as_deref(),
        Some(keys.key_ring_check().as_str())
    );
    let base = format!("http://{}", node.addr);
    let client = reqwest::Client::new();
    let token =
        tessera_server::test_support::sign_in(&client, &base, &user.phone, &user.password).await;
    let cards: Value = client
        .get(format!("{base}/v1/cards"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cards["data"][0]["id"], bound["id"], "{cards}");

    // An old value some other key ring made is refused, as a new one is.
    let other = KeyRing::generate().unwrap();
    node.state
        .store
        .put_setting(name, &other.legacy_key_ring_check(), chrono::Utc::now())
        .await
        .unwrap();
    node.stop().await.unwrap();
    let refused = reopen(&dir, database.as_ref()).await.unwrap_err();
    assert!(
        refused.contains("key ring is not the one the database was written with"),
        "{refused}"
    );
}

on_both_backends!(
    an_old_pepper_password_signs_in_and_moves_to_the_sign_in_pepper,
    a_database_with_the_old_key_ring_check_still_opens,
);
