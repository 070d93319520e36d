//! Card data hygiene: no PAN, CVC, password, ID number or key reaches a log
//! line, the data directory's files or a database value in clear, nor any
//! OTP outside the sandbox phone. These scans read the real log output,
//! every file of the data directory (the SQLite WAL included) and every
//! text and binary column of the database, SQLite or PostgreSQL.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::payments::set_up;
use crate::{Backend, TestDatabase, TestServer, card, log_buffer, purchase};

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

async fn no_secret_reaches_the_logs_or_the_database_files(backend: Backend) {
    let mut server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let debit = card(Outcome::Approve);
    let otp_card = card(Outcome::Otp);
    let declined = card(Outcome::LostCard);
    // A credit card with its CVC, and bad inputs that carry card numbers.
    let credit = sandbox::card_number("622575", 16, Outcome::Approve).unwrap();
    let cvc = "739";
    let luhn_broken = format!("{}{}", &debit[..18], (debit.as_bytes()[18] - b'0' + 1) % 10);
    let (status, debit_card) = server.bind(&user, &debit).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": credit, "holder_name": "张三", "expiry_month": "08", "expiry_year": "31", "cvc": cvc}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, refused) = server.bind(&user, &declined).await;
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
    let (status, _) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": otp}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A ticket whose message carries a card number keeps it masked, and
    // what support and the person read shows masked numbers only.
    let (status, _) = server
        .post(
            "/v1/tickets",
            &user.token,
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
    // Unbinding erases the PAN ciphertext.
    let debit_id = debit_card["id"].as_str().unwrap().to_owned();
    server
        .delete(&format!("/v1/cards/{debit_id}"), &user.token)
        .await;
    let data_dir = server.data_dir();
    let key_file = std::fs::read_to_string(data_dir.join("tessera.keys")).unwrap();
    // Kept past the server's stop, for the scan below.
    let database = server.database.take();
    let dir = server.stop().await;

    let logs = String::from_utf8(log_buffer().lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("card binding"),
        "the scan must see the binding logs"
    );
    let secrets = [
        ("PAN", debit.as_str()),
        ("PAN", otp_card.as_str()),
        ("PAN", declined.as_str()),
        ("PAN", credit.as_str()),
        ("PAN", luhn_broken.as_str()),
        ("password", user.password.as_str()),
        ("ID number", user.id_number.as_str()),
        ("operator key", api_keys[0].as_str()),
        ("support key", api_keys[1].as_str()),
        ("issuer key", api_keys[2].as_str()),
        ("signing secret", api_keys[3].as_str()),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "a {what} reached the log");
        let hits = files_containing(&dir.path().join("data"), secret.as_bytes());
        assert!(hits.is_empty(), "a {what} is in clear in {hits:?}");
    }
    assert!(!logs.contains(&format!("\"{cvc}\"")) && !logs.contains(&format!("cvc={cvc}")));
    assert!(!logs.contains(&otp), "an OTP reached the log");
    // Key material: the key file's secrets never leave it.
    for line in key_file.lines().filter(|l| l.len() > 40) {
        for token in line.split(|c: char| !c.is_ascii_alphanumeric() && c != '+' && c != '/') {
            if token.len() >= 32 {
                assert!(!logs.contains(token), "key material reached the log");
            }
        }
    }

    // Every text and binary value either database holds: no secret in
    // clear, the OTP only in the sandbox phone's table, the CVC nowhere.
    let values = stored_values(&dir, database.as_ref()).await;
    let unbound_ciphertext = unbound_ciphertext(&dir, database.as_ref(), &debit_id).await;
    assert!(
        values
            .iter()
            .any(|v| v.table == "cards" && v.column == "pan_ciphertext"),
        "the scan must see the vaulted PANs"
    );
    assert!(
        values
            .iter()
            .any(|v| v.table == "api_keys" && v.column == "signing_secret_ciphertext"),
        "the scan must see the sealed signing secrets"
    );
    let holds = |value: &Stored, needle: &str| {
        value
            .bytes
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    for value in &values {
        let place = format!("{}.{}", value.table, value.column);
        for (what, secret) in secrets {
            assert!(!holds(value, secret), "a {what} is in clear in {place}");
        }
        if value.table != "sandbox_sms" {
            assert!(!holds(value, &otp), "the OTP is in {place}");
        }
        assert!(!holds(value, &format!("cvc{cvc}")), "a CVC is in {place}");
    }
    assert!(
        unbound_ciphertext.is_none(),
        "an unbound card keeps no ciphertext"
    );
}

/// One stored text or binary value.
pub struct Stored {
    pub table: String,
    pub column: String,
    pub bytes: Vec<u8>,
}

/// Every text and binary value the stopped server's database holds: the
/// SQLite file in `dir`'s data directory, or the PostgreSQL `database`.
pub async fn stored_values(
    dir: &tempfile::TempDir,
    database: Option<&TestDatabase>,
) -> Vec<Stored> {
    match database {
        None => sqlite_values(&dir.path().join("data/tessera.db")).await,
        Some(database) => postgres_values(database.url()).await,
    }
}

/// The PAN ciphertext of card `card_id`.
async fn unbound_ciphertext(
    dir: &tempfile::TempDir,
    database: Option<&TestDatabase>,
    card_id: &str,
) -> Option<Vec<u8>> {
    match database {
        None => {
            let conn = rusqlite::Connection::open(dir.path().join("data/tessera.db")).unwrap();
            conn.query_row(
                "SELECT pan_ciphertext FROM cards WHERE id = ?",
                [card_id],
                |row| row.get(0),
            )
            .unwrap()
        }
        Some(database) => {
            let mut conn = sqlx::PgConnection::connect(database.url()).await.unwrap();
            let ciphertext = sqlx::query_scalar("SELECT pan_ciphertext FROM cards WHERE id = $1")
                .bind(card_id)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            let _ = conn.close().await;
            ciphertext
        }
    }
}

/// Every text and blob value in the SQLite file. The connection is closed
/// when this returns, before the files are read: the last connection to
/// close removes the WAL and shared-memory files.
async fn sqlite_values(path: &Path) -> Vec<Stored> {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap();
    let tables: Vec<String> = tables
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut values = Vec::new();
    for table in tables {
        let mut statement = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns: Vec<String> = statement
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut rows = statement.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for (index, column) in columns.iter().enumerate() {
                let bytes = match row.get_ref(index).unwrap() {
                    ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes.to_vec(),
                    ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) => continue,
                };
                values.push(Stored {
                    table: table.clone(),
                    column: column.clone(),
                    bytes,
                });
            }
        }
    }
    values
}

/// Every text and bytea value in the PostgreSQL database.
async fn postgres_values(url: &str) -> Vec<Stored> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND data_type IN ('text', 'character varying', 'bytea') \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut values = Vec::new();
    for (table, column, data_type) in columns {
        let select = format!("SELECT \"{column}\" FROM \"{table}\"");
        let found: Vec<Option<Vec<u8>>> = if data_type == "bytea" {
            sqlx::query_scalar(sqlx::AssertSqlSafe(select))
                .fetch_all(&mut conn)
                .await
                .unwrap()
        } else {
            let texts: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(select))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            texts
                .into_iter()
                .map(|text| text.map(String::into_bytes))
                .collect()
        };
        for bytes in found.into_iter().flatten() {
            values.push(Stored {
                table: table.clone(),
                column: column.clone(),
                bytes,
            });
        }
    }
    let _ = conn.close().await;
    values
}

async fn no_token_pan_or_key_reaches_the_logs_or_the_database_files(backend: Backend) {
    let (mut server, user, card, mut device, merchant) = set_up(backend).await;
    let keys: Vec<String> = device
        .keys
        .iter()
        .map(|(_, key)| hex::encode_upper(key.expose_bytes()))
        .collect();
    let signed = device.sign(&purchase(1234, "M1")).unwrap();
    assert_eq!(
        server.pay(&merchant, &signed.body).await.0,
        StatusCode::CREATED
    );
    server
        .pay(&merchant, &device.sign(&purchase(1251, "M1")).unwrap().body)
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
    let data_dir = server.data_dir();
    // Kept past the server's stop, for the scans below (the directory is
    // deleted when the returned TempDir drops).
    let database = server.database.take();
    let dir = server.stop().await;
    let logs = String::from_utf8(log_buffer().lock().unwrap().clone()).unwrap();
    let mut secrets = vec![device.token_pan.clone(), cryptogram];
    secrets.extend(keys);
    // Every value the database holds, PostgreSQL's included.
    let values = stored_values(&dir, database.as_ref()).await;
    assert!(
        values.iter().any(|v| v.table == "payments"),
        "the scan must see the payments"
    );
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
        for value in &values {
            for needle in [secret.clone(), secret.to_lowercase()] {
                assert!(
                    !value
                        .bytes
                        .windows(needle.len())
                        .any(|w| w == needle.as_bytes()),
                    "{}.{} holds a secret in clear",
                    value.table,
                    value.column
                );
            }
        }
        for entry in std::fs::read_dir(&data_dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for needle in [
                secret.as_bytes().to_vec(),
                secret.to_lowercase().into_bytes(),
            ] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "{} holds a secret in clear",
                    path.display()
                );
            }
        }
    }
}

on_both_backends!(
    no_secret_reaches_the_logs_or_the_database_files,
    no_token_pan_or_key_reaches_the_logs_or_the_database_files,
);
