//! Accounts and sessions: users, sign-in failures, sessions, API keys,
//! and the database's own answers.

use crate::*;

async fn ping_and_has_data(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert!(["sqlite", "postgres"].contains(&store.backend()));
    assert!(!store.has_data().await.unwrap());
    store.put_setting("maintenance", "on", at(1)).await.unwrap();
    assert!(!store.has_data().await.unwrap(), "settings are not data");
    user(&*store, "1").await;
    assert!(store.has_data().await.unwrap());
}

async fn users(store: Arc<dyn Store>) {
    let wanted = new_user("1");
    let created = store.create_user(&wanted).await.unwrap();
    assert_eq!(created.status, "active");
    for found in [
        store.user_by_id(&wanted.id).await.unwrap().unwrap(),
        store.user_by_phone(&wanted.phone).await.unwrap().unwrap(),
    ] {
        assert_eq!(found.id, wanted.id);
        assert_eq!(found.phone, wanted.phone);
        assert_eq!(found.real_name, "张三");
        assert_eq!(found.real_name_normalized, wanted.real_name_normalized);
        assert_eq!(found.id_number_hash, wanted.id_number_hash);
        assert_eq!(found.id_number_last4, "123X");
        assert_eq!(found.password_hash, wanted.password_hash);
        assert_eq!(found.status, "active");
        assert_eq!(found.created_at, at(1_000));
    }
    assert!(store.user_by_id(&"nobody".into()).await.unwrap().is_none());
    assert!(store.user_by_phone("+1").await.unwrap().is_none());

    let same_phone = NewUser {
        id: "user-other".to_owned().into(),
        ..new_user("1")
    };
    let error = store.create_user(&same_phone).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict(Constraint::UserPhone)),
        "{error:?}"
    );
    assert!(
        store
            .user_by_id(&"user-other".into())
            .await
            .unwrap()
            .is_none()
    );
    // Another rule broken is named as such, not taken for the phone.
    let same_id = NewUser {
        phone: "+86-138-other".to_owned(),
        ..new_user("1")
    };
    let error = store.create_user(&same_id).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict(Constraint::Other)),
        "{error:?}"
    );
}

/// The count a claim answered, or None when it was refused.
fn counted(claim: AttemptClaim) -> Option<(u32, DateTime<Utc>)> {
    match claim {
        AttemptClaim::Counted(f) => Some((f.failures, f.window_started_at)),
        AttemptClaim::Refused(_) => None,
    }
}

async fn login_attempts(store: Arc<dyn Store>) {
    let hash = "phone-hash";
    let window = TimeDelta::milliseconds(60_000);
    assert!(store.login_failures(hash).await.unwrap().is_none());
    let claim = |now: i64| {
        let store = store.clone();
        async move {
            store
                .claim_login_attempt(hash, 3, at(now), window)
                .await
                .unwrap()
        }
    };
    assert_eq!(counted(claim(1_000).await), Some((1, at(1_000))));
    assert_eq!(counted(claim(2_000).await), Some((2, at(1_000))));
    // A right password gives its attempt back; another window's start
    // (a claim from before a reset) gives back nothing.
    store
        .give_back_login_attempt(hash, at(1_000))
        .await
        .unwrap();
    store.give_back_login_attempt(hash, at(999)).await.unwrap();
    assert_eq!(
        store.login_failures(hash).await.unwrap().unwrap().failures,
        1
    );
    assert_eq!(counted(claim(3_000).await), Some((2, at(1_000))));
    assert_eq!(counted(claim(4_000).await), Some((3, at(1_000))));
    // At the limit: refused, with the window's start, and not counted,
    // still at exactly the window's end...
    for now in [5_000, 61_000] {
        match claim(now).await {
            AttemptClaim::Refused(started) => assert_eq!(started, Some(at(1_000))),
            other => panic!("counted past the limit: {other:?}"),
        }
    }
    let stored = store.login_failures(hash).await.unwrap().unwrap();
    assert_eq!((stored.failures, stored.window_started_at), (3, at(1_000)));
    // ...and a new window after it.
    assert_eq!(counted(claim(61_001).await), Some((1, at(61_001))));
    assert!(store.login_failures("other").await.unwrap().is_none());
    store.clear_login_failures(hash).await.unwrap();
    assert!(store.login_failures(hash).await.unwrap().is_none());
    store.clear_login_failures(hash).await.unwrap();
    // Giving back never goes below nothing.
    assert_eq!(counted(claim(70_000).await), Some((1, at(70_000))));
    for _ in 0..3 {
        store
            .give_back_login_attempt(hash, at(70_000))
            .await
            .unwrap();
    }
    assert_eq!(
        store.login_failures(hash).await.unwrap().unwrap().failures,
        0
    );
}

async fn sessions(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let session = SessionRecord {
        id: "ses_1".to_owned(),
        token_hash: "session-hash".to_owned(),
        user_id: user_id.clone(),
        expires_at: at(10_000),
        created_at: at(1_000),
        user_agent: Some("Wallet/2.1 (iPhone)".to_owned()),
    };
    store.create_session(&session).await.unwrap();
    assert_eq!(
        store.session_user("session-hash", at(9_999)).await.unwrap(),
        Some(user_id.to_string())
    );
    assert_eq!(
        store
            .session_user("session-hash", at(10_000))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.session_user("other", at(1_000)).await.unwrap(), None);
    // The same session answering the whole user, in one read where the
    // backend can.
    let record = store
        .session_user_record("session-hash", at(9_999))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.id, user_id);
    assert_eq!(record.phone, new_user("1").phone);
    assert_eq!(record.real_name, "张三");
    assert_eq!(record.status, "active");
    assert!(
        store
            .session_user_record("session-hash", at(10_000))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_user_record("other", at(1_000))
            .await
            .unwrap()
            .is_none()
    );
    let error = store.create_session(&session).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    let orphan = SessionRecord {
        id: "ses_orphan".to_owned(),
        token_hash: "orphan".to_owned(),
        user_id: "nobody".to_owned().into(),
        ..session
    };
    assert!(store.create_session(&orphan).await.is_err());
}

async fn sessions_are_listed_and_ended(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&*store, "1").await, user(&*store, "2").await);
    let session = |n: u32, user_id: &UserId, created: i64, expires: i64| SessionRecord {
        id: format!("ses_{n}"),
        token_hash: format!("hash-{n}"),
        user_id: user_id.clone(),
        expires_at: at(expires),
        created_at: at(created),
        user_agent: (n == 2).then(|| "okhttp/4.12".to_owned()),
    };
    for record in [
        session(1, &alice, 1_000, 50_000),
        session(2, &alice, 2_000, 50_000),
        session(3, &alice, 3_000, 4_000),
        session(4, &bob, 1_500, 50_000),
    ] {
        store.create_session(&record).await.unwrap();
    }
    // Alice's live sessions, newest first, read back whole; Bob's apart.
    let listed = store.user_sessions(&alice, at(5_000)).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["ses_2", "ses_1"]);
    assert_eq!(listed[0].token_hash, "hash-2");
    assert_eq!(listed[0].user_id, alice);
    assert_eq!(
        (listed[0].created_at, listed[0].expires_at),
        (at(2_000), at(50_000))
    );
    assert_eq!(listed[0].user_agent.as_deref(), Some("okhttp/4.12"));
    assert_eq!(listed[1].user_agent, None);
    // One ends, once.
    assert!(store.end_session("hash-2").await.unwrap());
    assert!(!store.end_session("hash-2").await.unwrap());
    assert!(
        store
            .session_user("hash-2", at(5_000))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_user("hash-1", at(5_000))
            .await
            .unwrap()
            .is_some()
    );
    // All of Alice's end (the expired one too); Bob's stays.
    assert_eq!(store.end_user_sessions(&alice).await.unwrap(), 2);
    assert!(store.user_sessions(&alice, at(0)).await.unwrap().is_empty());
    assert!(
        store
            .session_user("hash-1", at(5_000))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.user_sessions(&bob, at(5_000)).await.unwrap().len(), 1);
    assert_eq!(store.end_user_sessions(&alice).await.unwrap(), 0);
}

async fn api_keys(store: Arc<dyn Store>) {
    let key = ApiKeyRecord {
        id: "key-1".to_owned(),
        key_hash: "key-hash".to_owned(),
        role: "support".to_owned(),
        label: "客服 desk".to_owned(),
        holder: "王芳".to_owned(),
        scope: Vec::new(),
        signing_secret: None,
        created_at: at(5_000),
        revoked_at: None,
    };
    store.create_api_key(&key).await.unwrap();
    let found = store.api_key("key-hash").await.unwrap().unwrap();
    assert_eq!(found.id, "key-1");
    assert_eq!(found.key_hash, "key-hash");
    assert_eq!(found.role, "support");
    assert_eq!(found.label, "客服 desk");
    assert_eq!(found.holder, "王芳");
    assert_eq!(found.created_at, at(5_000));
    assert_eq!(found.revoked_at, None);
    assert!(store.api_key("other").await.unwrap().is_none());
    let same_hash = ApiKeyRecord {
        id: "key-2".to_owned(),
        ..key
    };
    let error = store.create_api_key(&same_hash).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
}

async fn api_key_scopes_signing_secrets_and_revocation(store: Arc<dyn Store>) {
    let issuer = ApiKeyRecord {
        id: "key-i".to_owned(),
        key_hash: "hash-i".to_owned(),
        role: "issuer".to_owned(),
        label: String::new(),
        holder: String::new(),
        scope: vec!["CCB".to_owned(), "ICBC".to_owned()],
        signing_secret: Some((3, vec![0, 1, 2, 255])),
        created_at: at(2_000),
        revoked_at: None,
    };
    let merchant = ApiKeyRecord {
        id: "key-m".to_owned(),
        key_hash: "hash-m".to_owned(),
        role: "merchant".to_owned(),
        scope: vec!["SHOP-1".to_owned()],
        signing_secret: None,
        created_at: at(1_000),
        ..issuer.clone()
    };
    store.create_api_key(&issuer).await.unwrap();
    store.create_api_key(&merchant).await.unwrap();
    let found = store.api_key("hash-i").await.unwrap().unwrap();
    assert_eq!(found.scope, ["CCB", "ICBC"]);
    assert_eq!(found.signing_secret, Some((3, vec![0, 1, 2, 255])));
    let found = store.api_key("hash-m").await.unwrap().unwrap();
    assert_eq!(found.scope, ["SHOP-1"]);
    assert_eq!(found.signing_secret, None);
    // Listed oldest first.
    let listed: Vec<String> = store
        .api_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(listed, ["key-m", "key-i"]);
    // Revoking answers when; a second revocation keeps the first time.
    assert_eq!(
        store.revoke_api_key("key-i", at(9_000)).await.unwrap(),
        Some(at(9_000))
    );
    assert_eq!(
        store.revoke_api_key("key-i", at(12_000)).await.unwrap(),
        Some(at(9_000))
    );
    assert_eq!(store.revoke_api_key("nope", at(9_000)).await.unwrap(), None);
    let found = store.api_key("hash-i").await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(at(9_000)));
    let keys = store.api_keys().await.unwrap();
    assert_eq!(keys[0].revoked_at, None, "the other key is untouched");
    assert_eq!(keys[1].revoked_at, Some(at(9_000)));
}

async fn concurrent_counters(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind_pending(&*store, &user_id, "c1", "fp1", 1_000, 90_000).await;
    let mut otp_tasks = Vec::new();
    let mut login_tasks = Vec::new();
    for _ in 0..20 {
        let store_a = store.clone();
        otp_tasks.push(tokio::spawn(async move {
            store_a.record_otp_failure(&"c1".into()).await.unwrap()
        }));
        let store_b = store.clone();
        login_tasks.push(tokio::spawn(async move {
            store_b
                .claim_login_attempt("phone-hash", 5, at(1_000), TimeDelta::milliseconds(60_000))
                .await
                .unwrap()
        }));
    }
    let mut otp_counts = Vec::new();
    for task in otp_tasks {
        otp_counts.push(task.await.unwrap());
    }
    let mut login_counts = Vec::new();
    let mut refused = 0;
    for task in login_tasks {
        match task.await.unwrap() {
            AttemptClaim::Counted(f) => login_counts.push(f.failures),
            AttemptClaim::Refused(started) => {
                assert_eq!(started, Some(at(1_000)));
                refused += 1;
            }
        }
    }
    otp_counts.sort_unstable();
    login_counts.sort_unstable();
    let expected: Vec<u32> = (1..=20).collect();
    assert_eq!(otp_counts, expected, "every wrong code counts once");
    assert_eq!(
        (login_counts, refused),
        (vec![1, 2, 3, 4, 5], 15),
        "20 racing sign-ins: 5 counted once each, the rest refused"
    );
}

fn sms_code(phone_hash: &str, code_hash: &str, now: i64) -> SmsCodeRecord {
    SmsCodeRecord {
        purpose: SmsCodePurpose::ResetPassword,
        phone_hash: phone_hash.to_owned(),
        code_hash: code_hash.to_owned(),
        expires_at: at(now + 60_000),
        created_at: at(now),
    }
}

async fn sms_codes_allow_a_few_comparisons_until_they_expire(store: Arc<dyn Store>) {
    let purpose = SmsCodePurpose::ResetPassword;
    let claim = |phone: &'static str, now: i64| {
        let store = store.clone();
        async move {
            store
                .claim_sms_code_attempt(purpose, phone, 3, at(now))
                .await
                .unwrap()
        }
    };
    assert_eq!(claim("phone-1", 1_000).await, SmsCodeClaim::Expired);
    store
        .put_sms_code(&sms_code("phone-1", "code-a", 1_000))
        .await
        .unwrap();
    let code_a = SmsCodeClaim::Claimed {
        code_hash: "code-a".to_owned(),
    };
    for _ in 0..3 {
        assert_eq!(claim("phone-1", 2_000).await, code_a);
    }
    assert_eq!(claim("phone-1", 2_000).await, SmsCodeClaim::Spent);
    assert_eq!(claim("phone-2", 2_000).await, SmsCodeClaim::Expired);
    // A new code replaces the spent one, with its comparisons.
    store
        .put_sms_code(&sms_code("phone-1", "code-b", 3_000))
        .await
        .unwrap();
    let code_b = SmsCodeClaim::Claimed {
        code_hash: "code-b".to_owned(),
    };
    assert_eq!(claim("phone-1", 3_000).await, code_b);
    // Valid until just before its expiry.
    assert_eq!(claim("phone-1", 62_999).await, code_b);
    assert_eq!(claim("phone-1", 63_000).await, SmsCodeClaim::Expired);
    // 20 racing comparisons with a fresh code: 3 counted.
    store
        .put_sms_code(&sms_code("phone-1", "code-c", 70_000))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_sms_code_attempt(purpose, "phone-1", 3, at(70_000))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claimed = 0;
    for task in tasks {
        match task.await.unwrap() {
            SmsCodeClaim::Claimed { .. } => claimed += 1,
            other => assert_eq!(other, SmsCodeClaim::Spent),
        }
    }
    assert_eq!(claimed, 3);
}

async fn a_password_reset_uses_the_code_once_and_ends_every_session(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&*store, "1").await, user(&*store, "2").await);
    for (n, user_id) in [(1, &alice), (2, &alice), (3, &bob)] {
        store
            .create_session(&SessionRecord {
                id: format!("ses_{n}"),
                token_hash: format!("hash-{n}"),
                user_id: user_id.clone(),
                expires_at: at(90_000),
                created_at: at(1_000),
                user_agent: None,
            })
            .await
            .unwrap();
    }
    for _ in 0..5 {
        store
            .claim_login_attempt("login-1", 5, at(1_000), TimeDelta::seconds(900))
            .await
            .unwrap();
    }
    store
        .put_sms_code(&sms_code("phone-1", "code-a", 1_000))
        .await
        .unwrap();
    let reset = PasswordReset {
        purpose: SmsCodePurpose::ResetPassword,
        phone_hash: "phone-1".to_owned(),
        code_hash: "code-a".to_owned(),
        user_id: alice.clone(),
        password_hash: "$argon2id$new".to_owned(),
        sign_in_key: "login-1".to_owned(),
    };
    // A code replaced meanwhile changes nothing.
    let stale = PasswordReset {
        code_hash: "code-old".to_owned(),
        ..reset.clone()
    };
    assert_eq!(store.reset_password(&stale).await.unwrap(), None);
    let stored = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, new_user("1").password_hash);
    assert!(
        store
            .session_user("hash-1", at(2_000))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .login_failures("login-1")
            .await
            .unwrap()
            .unwrap()
            .failures,
        5
    );

    assert_eq!(store.reset_password(&reset).await.unwrap(), Some(2));
    let stored = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, "$argon2id$new");
    assert!(
        store
            .user_sessions(&alice, at(2_000))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.user_sessions(&bob, at(2_000)).await.unwrap().len(), 1);
    assert!(store.login_failures("login-1").await.unwrap().is_none());
    // The code is used up: a second reset with it changes nothing.
    assert_eq!(
        store
            .claim_sms_code_attempt(SmsCodePurpose::ResetPassword, "phone-1", 5, at(2_000))
            .await
            .unwrap(),
        SmsCodeClaim::Expired
    );
    let again = PasswordReset {
        password_hash: "$argon2id$other".to_owned(),
        ..reset
    };
    assert_eq!(store.reset_password(&again).await.unwrap(), None);
    let stored = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, "$argon2id$new");
}

/// A rehash replaces the hash it was computed from, never a newer one: a
/// password reset meanwhile keeps its own.
async fn a_rehash_replaces_only_the_hash_it_read(store: Arc<dyn Store>) {
    let (alice, bob) = (user(&*store, "1").await, user(&*store, "2").await);
    let read = new_user("1").password_hash;
    assert!(
        !store
            .rehash_password(&alice, "$argon2id$other", "$argon2id$rehashed")
            .await
            .unwrap()
    );
    let stored = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, read);
    assert!(
        store
            .rehash_password(&alice, &read, "$argon2id$rehashed")
            .await
            .unwrap()
    );
    let stored = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, "$argon2id$rehashed");
    // Once only, and only Alice's.
    assert!(
        !store
            .rehash_password(&alice, &read, "$argon2id$again")
            .await
            .unwrap()
    );
    let stored = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, "$argon2id$rehashed");
    let stored = store.user_by_id(&bob).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, read);
}

on_both_backends!(
    ping_and_has_data,
    users,
    login_attempts,
    sessions,
    sessions_are_listed_and_ended,
    sms_codes_allow_a_few_comparisons_until_they_expire,
    a_password_reset_uses_the_code_once_and_ends_every_session,
    a_rehash_replaces_only_the_hash_it_read,
    api_keys,
    api_key_scopes_signing_secrets_and_revocation,
    concurrent_counters
);
