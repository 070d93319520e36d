//! Tickets as conversations: a person opens one on a payment or a transfer,
//! support replies (with notes the person never reads) and sets the
//! status, the person answers and so reopens it; support's queue lists by
//! status and age. Nobody reaches another person's tickets, payments or
//! transfers, and bad input writes nothing.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::User;

use crate::diagnose::{bind_from, xiaomi};
use crate::hygiene::stored_values;
use crate::payments::set_up_with;
use crate::{Backend, TestServer, assert_error, card, purchase};

/// `POST /v1/tickets` as the person, with an idempotency key.
async fn open(server: &TestServer, user: &User, body: Value, key: &str) -> (StatusCode, Value) {
    let (status, _, ticket) = server
        .call(
            Method::POST,
            "/v1/tickets",
            Some(&user.token),
            Some(&body),
            &[("idempotency-key", key)],
        )
        .await;
    (status, ticket)
}

/// The person's answer on a ticket, with an idempotency key.
async fn answer(
    server: &TestServer,
    user: &User,
    id: &str,
    body: Value,
    key: &str,
) -> (StatusCode, Value) {
    let (status, _, conversation) = server
        .call(
            Method::POST,
            &format!("/v1/tickets/{id}/replies"),
            Some(&user.token),
            Some(&body),
            &[("idempotency-key", key)],
        )
        .await;
    (status, conversation)
}

/// What support writes on a ticket.
async fn support_writes(server: &TestServer, id: &str, body: Value) -> (StatusCode, Value) {
    server
        .post(
            &format!("/v1/support/tickets/{id}/replies"),
            &server.support_key,
            body,
        )
        .await
}

async fn support_reads(server: &TestServer, id: &str) -> Value {
    let (status, body) = server
        .get(&format!("/v1/support/tickets/{id}"), &server.support_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn person_reads(server: &TestServer, user: &User, id: &str) -> Value {
    let (status, body) = server.get(&format!("/v1/tickets/{id}"), &user.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The ids of support's ticket list for this query.
async fn queue(server: &TestServer, query: &str) -> Vec<String> {
    let (status, list) = server
        .get(&format!("/v1/support/tickets?{query}"), &server.support_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {list}");
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

fn masked(number: &str) -> String {
    format!("****{}", &number[number.len() - 4..])
}

async fn a_conversation_on_a_payment_from_opening_to_resolved(backend: Backend) {
    let (server, user, card, mut device, merchant) = set_up_with(backend, |_| {}).await;
    let (status, paid) = server
        .pay(
            &merchant,
            &device.sign(&purchase(4_200, "M1")).unwrap().body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let payment_id = paid["id"].as_str().unwrap();

    let (status, ticket) = open(
        &server,
        &user,
        json!({"payment_id": payment_id, "message": "这笔扣款我不认识"}),
        "open-1",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_str().unwrap();
    assert_eq!(ticket["kind"], "payment");
    assert_eq!(ticket["payment_id"], payment_id);
    assert_eq!(ticket["status"], "open");
    assert_eq!(ticket["reply_count"], 0);
    assert_eq!(ticket["last_activity_at"], ticket["created_at"]);
    assert!(ticket["trace_id"].as_str().unwrap().starts_with("req_"));

    // Support reads the payment, its card masked, and the payment's trace id.
    let seen = support_reads(&server, id).await;
    let payment = &seen["ticket"]["details"]["payment"];
    assert_eq!(payment["id"], payment_id);
    assert_eq!(payment["amount"], 4_200);
    assert_eq!(payment["merchant_id"], "M1");
    assert_eq!(payment["trace_id"], ticket["trace_id"]);
    assert_eq!(payment["card"]["id"], card["id"]);
    assert_eq!(payment["card"]["last4"], card["last4"]);
    assert_eq!(payment["card"]["first6"], "622848");
    assert!(seen["entries"].as_array().unwrap().is_empty());

    // Support asks back, with a note the person never reads; a card number
    // typed in the reply is masked.
    let number = crate::card(Outcome::Approve);
    let (status, written) = support_writes(
        &server,
        id,
        json!({"message": format!("请确认是否是卡号 {number} 这张卡"),
            "status": "waiting_for_person",
            "internal_note": "商户 M1 本周已有三起投诉"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{written}");
    assert_eq!(written["ticket"]["status"], "waiting_for_person");
    assert_eq!(written["ticket"]["reply_count"], 1);
    let entry = &written["entries"][0];
    assert_eq!(entry["author"], "support");
    assert_eq!(entry["status"], "waiting_for_person");
    assert_eq!(entry["internal_note"], "商户 M1 本周已有三起投诉");
    let support_key_id = entry["key_id"].as_str().unwrap().to_owned();
    assert!(!support_key_id.is_empty());
    let asked = format!("请确认是否是卡号 {} 这张卡", masked(&number));
    assert_eq!(entry["message"], asked.as_str());

    let mine = person_reads(&server, &user, id).await;
    assert_eq!(mine["ticket"]["status"], "waiting_for_person");
    assert_eq!(
        mine["replies"],
        json!([{"author": "support", "message": asked,
            "created_at": entry["created_at"]}])
    );
    let text = mine.to_string();
    assert!(
        !text.contains("投诉") && !text.contains(&support_key_id),
        "{text}"
    );
    assert!(!text.contains(&number));

    // The person answers: support's turn again. A retry answers the same.
    let (status, answered) = answer(
        &server,
        &user,
        id,
        json!({"message": "不是这张卡，我没有在 M1 消费过"}),
        "answer-1",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answered}");
    assert_eq!(answered["ticket"]["status"], "open");
    assert_eq!(answered["ticket"]["reply_count"], 2);
    let replies = answered["replies"].as_array().unwrap();
    assert_eq!(
        replies.iter().map(|r| &r["author"]).collect::<Vec<_>>(),
        ["support", "person"]
    );
    let (status, again) = answer(
        &server,
        &user,
        id,
        json!({"message": "不是这张卡，我没有在 M1 消费过"}),
        "answer-1",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again, answered);
    assert_eq!(
        support_reads(&server, id).await["entries"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Support resolves it without a word to the person.
    let (status, resolved) = support_writes(&server, id, json!({"status": "resolved"})).await;
    assert_eq!(status, StatusCode::CREATED, "{resolved}");
    assert_eq!(resolved["ticket"]["status"], "resolved");
    assert_eq!(resolved["ticket"]["reply_count"], 2);
    let mine = person_reads(&server, &user, id).await;
    assert_eq!(mine["ticket"]["status"], "resolved");
    assert_eq!(mine["replies"].as_array().unwrap().len(), 2);
    let (_, list) = server.get("/v1/tickets", &user.token).await;
    assert_eq!(list["data"][0]["status"], "resolved");

    // A word from the person reopens it.
    let (status, reopened) = answer(
        &server,
        &user,
        id,
        json!({"message": "还是没退款"}),
        "answer-2",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reopened}");
    assert_eq!(reopened["ticket"]["status"], "open");

    // Support reads everything, in order, with who wrote each entry.
    let all = support_reads(&server, id).await;
    let entries = all["entries"].as_array().unwrap();
    let summary: Vec<(i64, &str, Option<&str>, Option<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["author"].as_str().unwrap(),
                e["key_id"].as_str(),
                e["status"].as_str(),
            )
        })
        .collect();
    let key = Some(support_key_id.as_str());
    assert_eq!(
        summary,
        [
            (1, "support", key, Some("waiting_for_person")),
            (2, "person", None, Some("open")),
            (3, "support", key, Some("resolved")),
            (4, "person", None, Some("open")),
        ]
    );
    assert_eq!(entries[2]["message"], Value::Null);
    assert_eq!(all["ticket"]["last_activity_at"], entries[3]["created_at"]);
}

async fn a_ticket_on_a_transfer_carries_the_transfer_masked(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, card_id) = crate::transfers::set_up(&server).await;
    let to = card(Outcome::Approve);
    let (status, _, sent) =
        crate::transfers::confirmed(&server, &user, &card_id, &to, 50_000).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let transfer_id = sent["id"].as_str().unwrap();

    let (status, ticket) = open(
        &server,
        &user,
        json!({"transfer_id": transfer_id, "message": "对方说没收到"}),
        "open-trf",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(ticket["kind"], "transfer");
    assert_eq!(ticket["transfer_id"], transfer_id);
    assert_eq!(ticket["payment_id"], Value::Null);
    assert_eq!(ticket["trace_id"], sent["trace_id"]);

    let seen = support_reads(&server, ticket["id"].as_str().unwrap()).await;
    let transfer = &seen["ticket"]["details"]["transfer"];
    assert_eq!(transfer["id"], transfer_id);
    assert_eq!(transfer["status"], "settled");
    assert_eq!(transfer["amount"], 50_000);
    assert_eq!(transfer["card"]["id"], card_id.as_str());
    assert_eq!(
        transfer["to_masked"],
        format!("{}*********{}", &to[..6], &to[15..])
    );
    // Names masked as support's other views show them.
    assert_eq!(transfer["to_holder_name"], "*四");
    let (_, list) = server.get("/v1/support/tickets", &server.support_key).await;
    assert_eq!(list["data"][0]["transfer_id"], transfer_id);
    assert!(!list.to_string().contains(&to));
    assert!(!list.to_string().contains("李四"));
}

async fn nobody_reaches_another_person_s_ticket_payment_or_transfer(backend: Backend) {
    let (server, payer, _, mut device, merchant) = set_up_with(backend, |_| {}).await;
    let (_, paid) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    let payment_id = paid["id"].as_str().unwrap();
    let (sender, card_id) = crate::transfers::set_up(&server).await;
    let (status, _, sent) =
        crate::transfers::confirmed(&server, &sender, &card_id, &card(Outcome::Approve), 100).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let transfer_id = sent["id"].as_str().unwrap();
    let stranger = server.user().await;

    // Another's payment or transfer is as unknown as a made-up one.
    for (body, param) in [
        (
            json!({"payment_id": payment_id, "message": "?"}),
            "payment_id",
        ),
        (
            json!({"payment_id": "pay_made_up", "message": "?"}),
            "payment_id",
        ),
        (
            json!({"transfer_id": transfer_id, "message": "?"}),
            "transfer_id",
        ),
        (
            json!({"transfer_id": "trf_made_up", "message": "?"}),
            "transfer_id",
        ),
    ] {
        let (status, error) = server.post("/v1/tickets", &stranger.token, body).await;
        let error = assert_error(status, &error, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(error["param"], param);
    }
    // Exactly one subject.
    for (body, param) in [
        (json!({"message": "?"}), "trace_id"),
        (
            json!({"payment_id": payment_id, "transfer_id": transfer_id, "message": "?"}),
            "transfer_id",
        ),
    ] {
        let (status, error) = server.post("/v1/tickets", &payer.token, body).await;
        let error = assert_error(status, &error, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], param);
    }

    let (status, ticket) = open(
        &server,
        &payer,
        json!({"payment_id": payment_id, "message": "查一下"}),
        "mine",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_str().unwrap();
    // Another person's ticket is unknown to read and to answer.
    let (status, body) = server
        .get(&format!("/v1/tickets/{id}"), &stranger.token)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = answer(&server, &stranger, id, json!({"message": "hi"}), "x").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = server.get("/v1/tickets/tkt_made_up", &payer.token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = support_writes(&server, "tkt_made_up", json!({"message": "hi"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    // People do not write as support; keys do not read as people.
    let (status, body) = server
        .post(
            &format!("/v1/support/tickets/{id}/replies"),
            &payer.token,
            json!({"message": "我是客服"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server
        .get(&format!("/v1/support/tickets/{id}"), &payer.token)
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server
        .get(&format!("/v1/tickets/{id}"), &server.support_key)
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");

    let seen = support_reads(&server, id).await;
    assert!(seen["entries"].as_array().unwrap().is_empty());
    assert_eq!(queue(&server, "").await, [id]);
}

async fn bad_input_is_refused_and_writes_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (_, _, trace) = bind_from(&server, &user, &card(Outcome::LostCard), xiaomi("wifi")).await;
    let (status, ticket) = open(
        &server,
        &user,
        json!({"trace_id": trace, "message": "绑不上"}),
        "bad-1",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_str().unwrap();
    let too_long = "长".repeat(2001);

    for (body, expected, code, param) in [
        (
            json!({"message": "好", "status": "closed"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "status",
        ),
        (
            json!({"status": "pending"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "status",
        ),
        (
            json!({}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "message",
        ),
        (
            json!({"message": "  \n "}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "message",
        ),
        (
            json!({"message": "好", "internal_note": " "}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "internal_note",
        ),
        (
            json!({"message": too_long}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "field_too_long",
            "message",
        ),
        (
            json!({"internal_note": too_long}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "field_too_long",
            "internal_note",
        ),
    ] {
        let (status, error) = support_writes(&server, id, body.clone()).await;
        let error = assert_error(status, &error, expected, code);
        assert_eq!(error["param"], param, "{body}");
    }
    for (body, expected, code) in [
        (
            json!({"message": ""}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"message": too_long}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "field_too_long",
        ),
    ] {
        let (status, error) = answer(&server, &user, id, body, "bad-answer").await;
        let error = assert_error(status, &error, expected, code);
        assert_eq!(error["param"], "message");
    }
    let (status, error) = answer(
        &server,
        &user,
        id,
        json!({"message": "好", "status": "resolved"}),
        "bad-field",
    )
    .await;
    assert_error(status, &error, StatusCode::BAD_REQUEST, "invalid_request");
    // Nothing was written, on either side.
    let seen = support_reads(&server, id).await;
    assert!(seen["entries"].as_array().unwrap().is_empty(), "{seen}");
    assert_eq!(seen["ticket"]["status"], "open");
    assert_eq!(seen["ticket"]["reply_count"], 0);
    assert_eq!(
        seen["ticket"]["last_activity_at"],
        ticket["last_activity_at"]
    );
    assert!(
        person_reads(&server, &user, id).await["replies"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The list's own parameters.
    for (query, param) in [
        ("status=closed", "status"),
        ("older_than=soon", "older_than"),
    ] {
        let (status, error) = server
            .get(&format!("/v1/support/tickets?{query}"), &server.support_key)
            .await;
        let error = assert_error(status, &error, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], param);
    }
}

async fn card_numbers_in_replies_are_masked_for_both_sides_and_in_storage(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (_, _, trace) = bind_from(&server, &user, &card(Outcome::LostCard), xiaomi("wifi")).await;
    let (_, ticket) = open(
        &server,
        &user,
        json!({"trace_id": trace, "message": "卡丢了"}),
        "mask-1",
    )
    .await;
    let id = ticket["id"].as_str().unwrap();
    let number = card(Outcome::Approve);
    let spaced: String = number
        .chars()
        .enumerate()
        .flat_map(|(i, c)| (i > 0 && i % 4 == 0).then_some(' ').into_iter().chain([c]))
        .collect();
    let (status, _) = answer(
        &server,
        &user,
        id,
        json!({"message": format!("新卡号是 {spaced}")}),
        "mask-2",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = support_writes(
        &server,
        id,
        json!({"message": format!("收到 {number}"), "internal_note": format!("旧卡 {number}")}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let last4 = masked(&number);
    let mine = person_reads(&server, &user, id).await;
    assert_eq!(mine["replies"][0]["message"], format!("新卡号是 {last4}"));
    assert_eq!(mine["replies"][1]["message"], format!("收到 {last4}"));
    let all = support_reads(&server, id).await;
    assert_eq!(all["entries"][1]["internal_note"], format!("旧卡 {last4}"));
    for (what, body) in [("person", &mine), ("support", &all)] {
        let text = body.to_string();
        assert!(
            !text.contains(&number) && !text.contains(&spaced),
            "{what}: {text}"
        );
    }

    // Stored masked too.
    let mut server = server;
    let database = server.database.take();
    let dir = server.stop().await;
    let values = stored_values(&dir, database.as_ref()).await;
    let entries: Vec<_> = values
        .iter()
        .filter(|v| v.table == "support_ticket_entries")
        .collect();
    assert!(entries.iter().any(|v| v.column == "internal_note"));
    for value in &values {
        for needle in [number.as_bytes(), spaced.as_bytes()] {
            assert!(
                !value.bytes.windows(needle.len()).any(|w| w == needle),
                "the number is stored in {}.{}",
                value.table,
                value.column
            );
        }
    }
}

async fn support_s_queue_lists_by_status_and_age(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (_, _, trace) = bind_from(&server, &user, &card(Outcome::LostCard), xiaomi("wifi")).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        if n == 2 {
            // The third is opened three hours after the first two.
            server.advance(Duration::from_secs(3 * 3600));
        }
        let (status, ticket) = open(
            &server,
            &user,
            json!({"trace_id": trace, "message": format!("第 {n} 次")}),
            &format!("queue-{n}"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        ids.push(ticket["id"].as_str().unwrap().to_owned());
    }
    let (t0, t1, t2) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());
    // Support answers the second now: it waits for the person since now.
    let (status, _) = support_writes(
        &server,
        t1,
        json!({"message": "请重试", "status": "waiting_for_person"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // The longest waiting first, by status; newest first without one.
    assert_eq!(queue(&server, "status=open").await, [t0, t2]);
    assert_eq!(queue(&server, "status=open&older_than=2h").await, [t0]);
    assert_eq!(queue(&server, "status=waiting_for_person").await, [t1]);
    assert!(
        queue(&server, "status=waiting_for_person&older_than=2h")
            .await
            .is_empty()
    );
    assert!(queue(&server, "status=resolved").await.is_empty());
    assert_eq!(queue(&server, "").await, [t2, t1, t0]);
    assert_eq!(queue(&server, "older_than=2h").await, [t0]);
    // Each ticket shows its last activity and reply count.
    let (_, list) = server
        .get(
            "/v1/support/tickets?status=waiting_for_person",
            &server.support_key,
        )
        .await;
    let waiting = &list["data"][0];
    assert_eq!(waiting["reply_count"], 1);
    assert_ne!(waiting["last_activity_at"], waiting["created_at"]);
    // Pages of the queue follow its order.
    let (_, page) = server
        .get(
            "/v1/support/tickets?status=open&limit=1",
            &server.support_key,
        )
        .await;
    assert_eq!(page["data"][0]["id"], t0);
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_eq!(
        queue(&server, &format!("status=open&limit=1&cursor={cursor}")).await,
        [t2]
    );

    let (status, _) = support_writes(&server, t0, json!({"status": "resolved"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(queue(&server, "status=resolved").await, [t0]);
    assert_eq!(queue(&server, "status=open").await, [t2]);
}

on_both_backends!(
    a_conversation_on_a_payment_from_opening_to_resolved,
    a_ticket_on_a_transfer_carries_the_transfer_masked,
    nobody_reaches_another_person_s_ticket_payment_or_transfer,
    bad_input_is_refused_and_writes_nothing,
    card_numbers_in_replies_are_masked_for_both_sides_and_in_storage,
    support_s_queue_lists_by_status_and_age,
);
