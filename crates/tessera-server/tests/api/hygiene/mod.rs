//! Card data hygiene: no PAN, CVC, password, ID number, SMS code, session
//! token or key reaches a log line, the data directory's files or the
//! database in clear, nor any SMS code outside the sandbox phone. These
//! scans read the real log output, every file of the data directory (the
//! SQLite WAL included), every text and binary value of the database and,
//! on PostgreSQL, a dump of every row; each secret is looked for as its
//! bytes, as hex and as base64.

mod scan;
mod transfers;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::accounts::{ask_for_code, reset, reset_code, texts};
use crate::payments::set_up;
use crate::{Backend, TestDatabase, TestServer, card, log_buffer, purchase};
pub use scan::{Stored, stored_values};

/// The credit card's security code: a whole value or beside its name
/// anywhere is a finding.
const CVC: &str = "739";

/// A POST with an `Idempotency-Key`, so that its answer is stored too.
async fn post_once(
    server: &TestServer,
    path: &str,
    bearer: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (status, _, body) = server
        .call(
            Method::POST,
            path,
            Some(bearer),
            Some(&body),
            &[("idempotency-key", key)],
        )
        .await;
    (status, body)
}

/// Every place a secret must not be: (where, bytes).
struct Places(Vec<(String, Vec<u8>)>);

impl Places {
    /// The database's values, its dump on PostgreSQL, and the data
    /// directory's files, of a stopped server.
    async fn of(dir: &tempfile::TempDir, database: Option<&TestDatabase>) -> (Places, Vec<Stored>) {
        let values = stored_values(dir, database).await;
        let mut places: Vec<(String, Vec<u8>)> = values
            .iter()
            .map(|v| (format!("{}.{}", v.table, v.column), v.bytes.clone()))
            .collect();
        if let Some(database) = database {
            places.extend(
                scan::postgres_dump(database)
                    .await
                    .into_iter()
                    .map(|(table, rows)| (format!("dump of {table}"), rows)),
            );
        }
        places.extend(scan::files(&dir.path().join("data")));
        (Places(places), values)
    }

    /// Fails on any form of `secret` anywhere but in the places whose
    /// names contain one of `except`.
    /// A text-message code: as a number of its own (a six-digit run inside
    /// a longer number or a time is chance), or hex or base64.
    fn assert_code_absent(&self, code: &str, except: &[&str]) {
        for (place, bytes) in &self.0 {
            if except.iter().any(|e| place.contains(e)) {
                continue;
            }
            let text = String::from_utf8_lossy(bytes);
            assert!(!scan::holds_code(&text, code), "an SMS code is in {place}");
            let encoded = scan::forms(code.as_bytes()).into_iter().skip(1);
            for (form, bytes_of) in encoded {
                assert!(
                    !scan::holds(bytes, &bytes_of),
                    "an SMS code is in {place} ({form})"
                );
            }
        }
    }

    fn assert_absent(&self, what: &str, secret: &[u8], except: &[&str]) {
        for (place, bytes) in &self.0 {
            if except.iter().any(|e| place.contains(e)) {
                continue;
            }
            if let Some(form) = scan::found_form(bytes, secret) {
                panic!("a {what} is in {place} ({form})");
            }
        }
    }
}

async fn no_secret_reaches_the_logs_or_the_database_files(backend: Backend) {
    let mut server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let debit = card(Outcome::Approve);
    let otp_card = card(Outcome::Otp);
    let declined = card(Outcome::LostCard);
    // A credit card with its CVC, and bad inputs that carry card numbers.
    let credit = sandbox::card_number("622575", 16, Outcome::Approve).unwrap();
    let luhn_broken = format!("{}{}", &debit[..18], (debit.as_bytes()[18] - b'0' + 1) % 10);
    // Answers stored for retries are scanned too.
    let (status, debit_card) = post_once(
        &server,
        "/v1/cards",
        &user.token,
        "hyg-debit",
        json!({"number": debit, "holder_name": "张三"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{debit_card}");
    let (status, body) = post_once(
        &server,
        "/v1/cards",
        &user.token,
        "hyg-credit",
        json!({"number": credit, "holder_name": "张三", "expiry_month": "08", "expiry_year": "31", "cvc": CVC}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, refused) = post_once(
        &server,
        "/v1/cards",
        &user.token,
        "hyg-declined",
        json!({"number": declined, "holder_name": "张三"}),
    )
    .await;
    server.bind(&user, &luhn_broken).await;
    server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": debit, "holder_name": "张三", "cvc": "12"}),
        )
        .await;
    let (status, pending) = server.bind(&user, &otp_card).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let otp = server.latest_otp(&user).await;
    let id = pending["id"].as_str().unwrap().to_owned();
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": wrong}),
        )
        .await;
    let (status, _) = post_once(
        &server,
        &format!("/v1/cards/{id}/verify"),
        &user.token,
        "hyg-verify",
        json!({"otp": otp}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A ticket whose message carries a card number keeps it masked, and
    // what support and the person read shows masked numbers only.
    let (status, _) = post_once(
        &server,
        "/v1/tickets",
        &user.token,
        "hyg-ticket",
        json!({"trace_id": refused["error"]["trace_id"], "message": format!("卡号 {declined} 被拒")}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // An issuer key and its signing secret, used once; operators list the
    // keys without them.
    let issuer = server.issuer_key(&["ABC"]).await;
    let closed = json!({"id": "evt-h", "type": "card.closed",
        "occurred_at": server.now().to_rfc3339(), "pan": declined});
    let (status, body) = server.issuer_event(&issuer, &closed, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let api_keys = [
        server.operator_key.clone(),
        server.support_key.clone(),
        issuer.key.clone(),
        issuer.signing_secret.clone(),
    ];
    let mut shown = Vec::new();
    for (path, bearer) in [
        ("/v1/admin/keys".to_owned(), &server.operator_key),
        (
            format!("/v1/support/diagnose?user_id={}", user.id),
            &server.support_key,
        ),
        ("/v1/support/tickets".to_owned(), &server.support_key),
        ("/v1/support/health/binding".to_owned(), &server.support_key),
        ("/v1/cards/attempts?all=true".to_owned(), &user.token),
    ] {
        let (status, body) = server.get(&path, bearer).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        shown.push((path, body.to_string()));
    }
    let metrics = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    shown.push(("/metrics".to_owned(), metrics));
    for (path, body) in &shown {
        for number in [&debit, &otp_card, &declined, &credit, &luhn_broken] {
            assert!(!body.contains(number.as_str()), "a PAN is shown by {path}");
        }
        for key in &api_keys {
            assert!(!body.contains(key.as_str()), "a key is shown by {path}");
        }
    }
    // A password reset by text message: its code and the new password,
    // and the session signed in with it.
    let before = texts(&server, &user.phone).await;
    // The wallet's own sign-up code, the first text the phone received.
    let sign_up_sms = before
        .iter()
        .find(|text| text.contains("开通钱包"))
        .and_then(|text| {
            text.split(|c: char| !c.is_ascii_digit())
                .find(|part| part.len() == 6)
        })
        .expect("the sign-up code")
        .to_owned();
    ask_for_code(&server, &user.phone).await;
    let reset_sms = reset_code(&server, &user.phone, before.len() + 1).await;
    let new_password = "hygiene-new-pass-4821";
    let (status, body) = reset(&server, &user.phone, &reset_sms, new_password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, session) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": user.phone, "password": new_password})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let token = session["token"].as_str().unwrap().to_owned();

    // Unbinding erases the PAN and token PAN ciphertexts: read them first,
    // and see the files hold them.
    let debit_id = debit_card["id"].as_str().unwrap().to_owned();
    let token_ref = debit_card["token"]["ref"].as_str().unwrap().to_owned();
    let data_dir = server.data_dir();
    let database = server.database.take();
    let ciphertexts = ciphertexts(&data_dir, database.as_ref(), &debit_id, &token_ref).await;
    assert_eq!(ciphertexts.len(), 2);
    if let Some(database) = &database {
        let dump = scan::postgres_dump(database).await;
        for ciphertext in &ciphertexts {
            let hex = hex::encode(ciphertext);
            assert!(
                dump.iter()
                    .any(|(_, rows)| scan::holds(rows, hex.as_bytes())),
                "the scan must see a bound card's ciphertext in the dump"
            );
        }
    } else {
        let files = scan::files(&data_dir);
        for ciphertext in &ciphertexts {
            assert!(
                files
                    .iter()
                    .any(|(_, bytes)| scan::holds(bytes, ciphertext)),
                "the scan must see a bound card's ciphertext in the files"
            );
        }
    }
    // Unbinding is confirmed with a payment password: neither it nor the
    // confirmation may be kept or logged.
    let tail = &user.phone[user.phone.len() - 6..];
    let pin = ["830271", "604917"]
        .into_iter()
        .find(|p| *p != tail)
        .unwrap();
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/me/payment-password",
            Some(&token),
            Some(&json!({"payment_password": pin})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, confirmed) = server
        .call(
            Method::POST,
            "/v1/me/verifications",
            Some(&token),
            Some(&json!({"purpose": "unbind_card", "card_id": debit_id, "payment_password": pin})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{confirmed}");
    let verification = confirmed["verification"].as_str().unwrap().to_owned();
    let (status, _, body) = server
        .call(
            Method::DELETE,
            &format!("/v1/cards/{debit_id}"),
            Some(&token),
            None,
            &[("Tessera-Verification", verification.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let key_file = std::fs::read_to_string(data_dir.join("tessera.keys")).unwrap();
    let dir = server.stop().await;

    let logs = String::from_utf8(log_buffer().lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("card binding"),
        "the scan must see the binding logs"
    );
    let secrets: Vec<(&str, &str)> = vec![
        ("PAN", debit.as_str()),
        ("PAN", otp_card.as_str()),
        ("PAN", declined.as_str()),
        ("PAN", credit.as_str()),
        ("PAN", luhn_broken.as_str()),
        ("password", user.password.as_str()),
        ("password", new_password),
        ("ID number", user.id_number.as_str()),
        ("session token", user.token.as_str()),
        ("session token", token.as_str()),
        ("operator key", api_keys[0].as_str()),
        ("support key", api_keys[1].as_str()),
        ("issuer key", api_keys[2].as_str()),
        ("signing secret", api_keys[3].as_str()),
        ("confirmation", verification.as_str()),
    ];
    for (what, secret) in &secrets {
        if let Some(form) = scan::found_form(logs.as_bytes(), secret.as_bytes()) {
            panic!("a {what} reached the log ({form})");
        }
    }
    for code in [&otp, &reset_sms, &sign_up_sms, &pin.to_owned()] {
        assert!(
            !scan::holds_code(&logs, code),
            "an SMS code or the payment password reached the log"
        );
    }
    assert!(
        !scan::cvc_near_its_name(logs.as_bytes(), CVC),
        "a CVC reached the log"
    );
    // Key material: the key file's secrets never leave it.
    for line in key_file.lines().filter(|l| l.len() > 40) {
        for token in line.split(|c: char| !c.is_ascii_alphanumeric() && c != '+' && c != '/') {
            if token.len() >= 32 {
                assert!(!logs.contains(token), "key material reached the log");
            }
        }
    }

    // Every value either database holds, the dump and the files: no
    // secret in any form, SMS codes only in the sandbox phone's table, no
    // CVC as a value or beside its name, no column for one.
    let (places, values) = Places::of(&dir, database.as_ref()).await;
    for (table, column) in [
        ("cards", "pan_ciphertext"),
        ("api_keys", "signing_secret_ciphertext"),
        ("idempotency_keys", "response_body"),
        ("sessions", "token_hash"),
    ] {
        assert!(
            values
                .iter()
                .any(|v| v.table == table && v.column == column),
            "the scan must see {table}.{column}"
        );
    }
    let stored_answers = values
        .iter()
        .filter(|v| v.table == "idempotency_keys" && v.column == "response_body")
        .count();
    assert!(stored_answers >= 4, "{stored_answers} stored answers");
    for (what, secret) in &secrets {
        places.assert_absent(what, secret.as_bytes(), &[]);
    }
    // The sandbox phone keeps its texts, in its table (and so in the
    // SQLite file's pages).
    let sandbox_texts = ["sandbox_sms", "tessera.db"];
    for code in [&otp, &reset_sms, &sign_up_sms] {
        places.assert_code_absent(code, &sandbox_texts);
    }
    places.assert_code_absent(pin, &[]);
    for value in &values {
        assert!(
            !scan::is_or_holds_cvc(&value.bytes, CVC),
            "a CVC is in {}.{}",
            value.table,
            value.column
        );
    }
    for (place, bytes) in &places.0 {
        assert!(!scan::cvc_near_its_name(bytes, CVC), "a CVC is in {place}");
    }
    let columns = scan::columns(&dir.path().join("data"), database.as_ref()).await;
    assert!(columns.len() > 50, "{columns:?}");
    assert_eq!(scan::cvc_columns(&columns), Vec::<&String>::new());
    // The unbound card's ciphertexts are gone from every value, the dump,
    // the database file and its WAL.
    for ciphertext in &ciphertexts {
        places.assert_absent("unbound card's ciphertext", ciphertext, &[]);
    }
}

/// The PAN ciphertext of card `card_id` and the token PAN ciphertext of
/// its token, read from the running server's database.
async fn ciphertexts(
    data_dir: &std::path::Path,
    database: Option<&TestDatabase>,
    card_id: &str,
    token_ref: &str,
) -> Vec<Vec<u8>> {
    let queries = [
        ("SELECT pan_ciphertext FROM cards WHERE id = ", card_id),
        (
            "SELECT token_pan_ciphertext FROM tokens WHERE token_ref = ",
            token_ref,
        ),
    ];
    let mut found = Vec::new();
    match database {
        None => {
            let conn = rusqlite::Connection::open(data_dir.join("tessera.db")).unwrap();
            for (query, id) in queries {
                let bytes: Vec<u8> = conn
                    .query_row(&format!("{query}?"), [id], |row| row.get(0))
                    .unwrap();
                found.push(bytes);
            }
        }
        Some(database) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(database.url()).await.unwrap();
            for (query, id) in queries {
                let bytes: Vec<u8> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{query}$1")))
                    .bind(id)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                found.push(bytes);
            }
            let _ = conn.close().await;
        }
    }
    found
}

async fn no_token_pan_or_key_reaches_the_logs_or_the_database_files(backend: Backend) {
    let (mut server, user, card, mut device, merchant) = set_up(backend).await;
    // The limited-use session keys, as the raw bytes they are.
    let keys: Vec<Vec<u8>> = device
        .keys
        .iter()
        .map(|(_, key)| key.expose_bytes().to_vec())
        .collect();
    let signed = device.sign(&purchase(1234, "M1")).unwrap();
    let pay_once = |body: &Value, key: &str| {
        let (body, key) = (body.clone(), key.to_owned());
        let (server, merchant) = (&server, &merchant);
        async move { post_once(server, "/v1/payments", merchant, &key, body).await }
    };
    let (status, paid) = pay_once(&signed.body, "hyg-pay-1").await;
    assert_eq!(status, StatusCode::CREATED);
    pay_once(
        &device.sign(&purchase(1251, "M1")).unwrap().body,
        "hyg-pay-2",
    )
    .await;
    server.pay(&merchant, &signed.body).await;
    let token_ref = card["token"]["ref"].as_str().unwrap();
    let (status, made) = server
        .post(
            &format!("/v1/tokens/{token_ref}/cryptograms"),
            &user.token,
            json!({"amount": 100, "currency": "CNY", "merchant_id": "M1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let cryptogram = made["cryptogram"].as_str().unwrap().to_owned();
    // A report of the payment quoting the token PAN keeps it masked, in the
    // report's ticket as everywhere.
    let (status, report) = server
        .post(
            &format!("/v1/payments/{}/report", paid["id"].as_str().unwrap()),
            &user.token,
            json!({"message": format!("不是我付的，凭证号 {}", device.token_pan)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    // Kept past the server's stop, for the scans below (the directory is
    // deleted when the returned TempDir drops).
    let database = server.database.take();
    let dir = server.stop().await;
    let logs = String::from_utf8(log_buffer().lock().unwrap().clone()).unwrap();
    let mut secrets: Vec<(&str, Vec<u8>)> = vec![
        ("token PAN", device.token_pan.clone().into_bytes()),
        ("cryptogram", cryptogram.to_lowercase().into_bytes()),
        ("cryptogram", cryptogram.into_bytes()),
        ("session token", user.token.clone().into_bytes()),
        ("merchant key", merchant.clone().into_bytes()),
    ];
    secrets.extend(keys.into_iter().map(|key| ("session key", key)));
    // Every value the database holds, its dump on PostgreSQL, the files.
    let (places, values) = Places::of(&dir, database.as_ref()).await;
    assert!(
        values.iter().any(|v| v.table == "payments"),
        "the scan must see the payments"
    );
    assert!(
        values
            .iter()
            .filter(|v| v.table == "idempotency_keys" && v.column == "response_body")
            .count()
            >= 2,
        "the scan must see the stored payment answers"
    );
    for (what, secret) in &secrets {
        if let Some(form) = scan::found_form(logs.as_bytes(), secret) {
            panic!("a {what} reached the logs ({form})");
        }
        places.assert_absent(what, secret, &[]);
    }
}

on_both_backends!(
    no_secret_reaches_the_logs_or_the_database_files,
    no_token_pan_or_key_reaches_the_logs_or_the_database_files,
);
