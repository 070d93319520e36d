//! Rules that span requests hold across nodes: the card limit, the binding
//! limits, one card per PAN, idempotency keys, switches and attempt
//! counters.

mod postgres {
    use super::super::*;

    /// 20 binds of different cards for one user (limit 5), released
    /// together and split across the nodes: exactly 5 cards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_card_limit_holds_across_nodes() {
        let Some(cluster) = Cluster::start(&["--card-limit", "5"]).await else {
            return;
        };
        let client = client();
        let token = sign_up(
            &client,
            cluster.base(0),
            NAME,
            &cluster.operator_key().await,
        )
        .await
        .token;
        // A session made at A is good at B: sessions live in the database.
        let (status, me) = get(&client, cluster.base(1), "/v1/me", &token).await;
        assert_eq!(status, 200, "{me}");

        let requests = (0..20)
            .map(|i| binding(cluster.base(i), &token, &approving_card()))
            .collect();
        let mut created = 0;
        for (status, body) in burst(requests).await {
            match status {
                201 => created += 1,
                422 => assert_eq!(code(&body), "card_limit_reached", "{body}"),
                other => panic!("a bind answered {other}: {body}"),
            }
        }
        assert_eq!(created, 5, "exactly the limit binds");
        for node in 0..2 {
            assert_eq!(
                live_cards(&client, cluster.base(node), &token).await.len(),
                5
            );
        }
        let url = cluster.database.url();
        let active = sql_count(url, "SELECT count(*) FROM cards WHERE status = 'active'").await;
        assert_eq!(active, 5);
    }

    /// One card bound by 10 people at once, split across the nodes: it
    /// reaches the bank 5 times (`limits.card_bindings_per_day`), and the
    /// others hear which limit stopped them and when it lifts.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_per_card_binding_limit_holds_across_nodes() {
        // More wallets than attempts may hold the card: the attempts stop it.
        let wallets = [("TESSERA_LIMITS__MAX_WALLETS_PER_CARD", "10")];
        let Some(cluster) = Cluster::start_env(&[], &wallets).await else {
            return;
        };
        let client = client();
        let mut tokens = Vec::new();
        let operator = cluster.operator_key().await;
        for i in 0..10 {
            tokens.push(
                sign_up(&client, cluster.base(i), NAME, &operator)
                    .await
                    .token,
            );
        }
        let number = approving_card();
        let requests = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| binding(cluster.base(i), token, &number))
            .collect();
        let mut created = 0;
        for (status, body) in burst(requests).await {
            match status {
                201 => created += 1,
                429 => {
                    assert_eq!(code(&body), "too_many_attempts", "{body}");
                    assert_eq!(body["error"]["limit"], "card_bindings", "{body}");
                    assert!(body["error"]["locked_until"].is_string(), "{body}");
                }
                other => panic!("a bind answered {other}: {body}"),
            }
        }
        assert_eq!(created, 5, "bindings of one card that reached the bank");
        let url = cluster.database.url();
        let reached = sql_count(
            url,
            "SELECT count(*) FROM binding_attempts WHERE issuer_response IS NOT NULL",
        )
        .await;
        assert_eq!(reached, 5);
    }

    /// One card bound by 10 people at once, split across the nodes: it
    /// ends up in 3 wallets (`limits.max_wallets_per_card`), and only those
    /// 3 bindings reached the bank; the others hear why.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_card_is_in_three_wallets_at_most_across_nodes() {
        // The attempts per card are raised so that only the wallet rule
        // stops the burst.
        let attempts = [("TESSERA_LIMITS__CARD_BINDINGS_PER_DAY", "20")];
        let Some(cluster) = Cluster::start_env(&[], &attempts).await else {
            return;
        };
        let client = client();
        let mut tokens = Vec::new();
        let operator = cluster.operator_key().await;
        for i in 0..10 {
            tokens.push(
                sign_up(&client, cluster.base(i), NAME, &operator)
                    .await
                    .token,
            );
        }
        let number = approving_card();
        let requests = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| binding(cluster.base(i), token, &number))
            .collect();
        let mut created = 0;
        for (status, body) in burst(requests).await {
            match status {
                201 => created += 1,
                422 => assert_eq!(code(&body), "card_wallet_limit_reached", "{body}"),
                other => panic!("a bind answered {other}: {body}"),
            }
        }
        assert_eq!(created, 3, "wallets the card went into");
        let url = cluster.database.url();
        let active = sql_count(url, "SELECT count(*) FROM cards WHERE status = 'active'").await;
        assert_eq!(active, 3);
        let reached = sql_count(
            url,
            "SELECT count(*) FROM binding_attempts WHERE issuer_response IS NOT NULL",
        )
        .await;
        assert_eq!(reached, 3, "the refused ones never reached the bank");
        let refused = sql_count(
            url,
            "SELECT count(*) FROM binding_attempts \
             WHERE error_code = 'card_wallet_limit_reached'",
        )
        .await;
        assert_eq!(refused, 7);
    }

    /// 16 binds of one card, released together and split across the
    /// nodes: one card.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_card_binds_once_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let token = sign_up(
            &client,
            cluster.base(0),
            NAME,
            &cluster.operator_key().await,
        )
        .await
        .token;
        // The slow outcome keeps the first binding in flight while the
        // others arrive.
        let number = sandbox::card_number("622848", 19, Outcome::Slow).unwrap();
        let requests = (0..16)
            .map(|i| binding(cluster.base(i), &token, &number))
            .collect();
        let mut created = Vec::new();
        for (status, body) in burst(requests).await {
            match status {
                201 => created.push(body),
                409 => assert!(
                    ["card_already_bound", "request_in_progress"].contains(&code(&body)),
                    "{body}"
                ),
                other => panic!("a double tap answered {other}: {body}"),
            }
        }
        assert_eq!(created.len(), 1, "exactly one tap binds");
        for node in 0..2 {
            let cards = live_cards(&client, cluster.base(node), &token).await;
            assert_eq!(cards.len(), 1);
            assert_eq!(cards[0]["id"], created[0]["id"]);
        }
        let url = cluster.database.url();
        assert_eq!(sql_count(url, "SELECT count(*) FROM cards").await, 1);
    }

    /// One Idempotency-Key sent to both nodes at once: one binding, and
    /// afterwards both nodes replay its answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_idempotency_key_binds_once_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let token = sign_up(
            &client,
            cluster.base(0),
            NAME,
            &cluster.operator_key().await,
        )
        .await
        .token;
        let body = json!({"number": sandbox::card_number("622848", 19, Outcome::Slow).unwrap(),
            "holder_name": NAME});
        let barrier = Arc::new(Barrier::new(8));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (client, barrier, token) = (client.clone(), barrier.clone(), token.clone());
            let (base, body) = (cluster.base(i).to_owned(), body.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                call(
                    &client,
                    Method::POST,
                    format!("{base}/v1/cards"),
                    Some(&token),
                    Some(&body),
                    &[("idempotency-key", "both-nodes-1")],
                )
                .await
            }));
        }
        // Whichever request took the key binds; the others, on either
        // node, wait for its answer and replay it.
        let mut created = Vec::new();
        for task in tasks {
            let (status, _, answer) = task.await.unwrap();
            assert_eq!(status, 201, "{answer}");
            created.push(answer["id"].clone());
        }
        assert_eq!(created.len(), 8);
        assert!(
            created.iter().all(|id| *id == created[0]),
            "one key, one card: {created:?}"
        );
        for node in 0..2 {
            let (status, _, replay) = call(
                &client,
                Method::POST,
                format!("{}/v1/cards", cluster.base(node)),
                Some(&token),
                Some(&body),
                &[("idempotency-key", "both-nodes-1")],
            )
            .await;
            assert_eq!(status, 201, "{replay}");
            assert_eq!(replay["id"], created[0]);
            assert_eq!(
                live_cards(&client, cluster.base(node), &token).await.len(),
                1
            );
        }
        let url = cluster.database.url();
        assert_eq!(sql_count(url, "SELECT count(*) FROM cards").await, 1);
        assert_eq!(
            sql_count(url, "SELECT count(*) FROM idempotency_keys").await,
            1
        );
    }

    /// Operator switches live in the database: maintenance and the sandbox
    /// issuer's behaviour set at A hold at B on its very next request.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn switches_set_at_one_node_hold_at_the_other_at_once() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let operator = cluster.operator_key().await;
        let token = sign_up(
            &client,
            cluster.base(1),
            NAME,
            &cluster.operator_key().await,
        )
        .await
        .token;
        let (a, b) = (cluster.base(0), cluster.base(1));

        // The nodes are processes of their own, on the system clock.
        let until = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
        let (status, _, body) = call(
            &client,
            Method::PUT,
            format!("{a}/v1/admin/maintenance"),
            Some(&operator),
            Some(&json!({"until": until, "message_zh": "维护中", "message_en": "Upgrading"})),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, headers, body) = call(
            &client,
            Method::POST,
            format!("{b}/v1/cards"),
            Some(&token),
            Some(&json!({"number": approving_card(), "holder_name": NAME})),
            &[],
        )
        .await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(code(&body), "maintenance", "{body}");
        assert!(headers.contains_key("retry-after"));
        let (status, _, window) = call(
            &client,
            Method::GET,
            format!("{b}/v1/admin/maintenance"),
            Some(&operator),
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200, "{window}");
        assert!(window.to_string().contains("Upgrading"), "{window}");
        // Switched off at B: A binds again at once.
        let (status, _, body) = call(
            &client,
            Method::DELETE,
            format!("{b}/v1/admin/maintenance"),
            Some(&operator),
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = bind(&client, a, &token, &approving_card()).await;
        assert_eq!(status, 201, "{body}");

        // The sandbox issuer made to fail at A fails at B, and back.
        for (rate, expected) in [(1.0, 503), (0.0, 201)] {
            let (status, _, body) = call(
                &client,
                Method::PUT,
                format!("{a}/v1/sandbox/issuer"),
                Some(&operator),
                Some(&json!({"latency_ms": 0, "failure_rate": rate})),
                &[],
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let (status, body) = bind(&client, b, &token, &approving_card()).await;
            assert_eq!(status, expected, "{body}");
            if expected == 503 {
                assert_eq!(code(&body), "issuer_unavailable", "{body}");
            }
        }
    }

    /// OTP attempts and sign-in failures count in the database: spread
    /// over both nodes, they still stop at five.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attempt_counters_are_shared_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let user = sign_up(
            &client,
            cluster.base(0),
            NAME,
            &cluster.operator_key().await,
        )
        .await;
        let (phone, token) = (user.phone.as_str(), user.token.clone());
        let number = sandbox::card_number("622848", 19, Outcome::Otp).unwrap();
        let (status, pending) = bind(&client, cluster.base(0), &token, &number).await;
        assert_eq!(status, 202, "{pending}");
        let id = pending["id"].as_str().unwrap();
        let (status, sms) = get(
            &client,
            cluster.base(1),
            &format!("/v1/sandbox/sms?phone={phone}"),
            &token,
        )
        .await;
        assert_eq!(status, 200, "{sms}");
        let otp = sms["data"][0]["body"]
            .as_str()
            .unwrap()
            .split(|c: char| !c.is_ascii_digit())
            .find(|part| part.len() == 6)
            .unwrap()
            .to_owned();
        let wrong = if otp == "000000" { "111111" } else { "000000" };
        let verify = |node: usize, code: &str| {
            let url = format!("{}/v1/cards/{id}/verify", cluster.base(node));
            let (client, token, body) = (client.clone(), token.clone(), json!({"otp": code}));
            async move {
                let (status, _, body) =
                    call(&client, Method::POST, url, Some(&token), Some(&body), &[]).await;
                (status, body)
            }
        };
        for (node, left) in [(1, 4), (0, 3), (1, 2), (0, 1)] {
            let (status, body) = verify(node, wrong).await;
            assert_eq!(status, 422, "{body}");
            assert_eq!(code(&body), "otp_incorrect");
            assert_eq!(body["error"]["attempts_left"], left, "{body}");
        }
        let (status, body) = verify(1, wrong).await;
        assert_eq!((status, code(&body)), (429, "too_many_attempts"), "{body}");
        let (status, body) = verify(0, &otp).await;
        assert_eq!((status, code(&body)), (429, "too_many_attempts"), "{body}");

        let sign_in = |node: usize, password: &str| {
            let url = format!("{}/v1/sessions", cluster.base(node));
            let body = json!({"phone": phone, "password": password});
            let client = client.clone();
            async move { call(&client, Method::POST, url, None, Some(&body), &[]).await }
        };
        for node in 0..5 {
            let (status, _, body) = sign_in(node, "not-the-password-1").await;
            assert_eq!(
                (status, code(&body)),
                (401, "invalid_credentials"),
                "{body}"
            );
        }
        let (status, headers, body) = sign_in(1, &user.password).await;
        assert_eq!((status, code(&body)), (429, "too_many_attempts"), "{body}");
        assert!(headers.contains_key("retry-after"));
        assert!(body["error"]["locked_until"].is_string(), "{body}");
    }

    /// 200 wrong passwords for one phone, each on a connection opened
    /// beforehand, released together and split across the nodes: the
    /// database counts each before its password is checked, so exactly 5
    /// are checked (401) and the rest locked out (429).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_five_passwords_are_checked_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let user = sign_up(
            &client(),
            cluster.base(0),
            NAME,
            &cluster.operator_key().await,
        )
        .await;
        let requests = (0..200)
            .map(|i| {
                let body = json!({"phone": user.phone, "password": format!("wrong-pass-{i}")});
                let url = format!("{}/v1/sessions", cluster.base(i));
                (Method::POST, url, None, Some(body))
            })
            .collect();
        let (mut checked, mut locked) = (0, 0);
        for (status, body) in burst(requests).await {
            match (status, code(&body)) {
                (401, "invalid_credentials") => checked += 1,
                (429, "too_many_attempts") => locked += 1,
                other => panic!("a sign-in answered {other:?}: {body}"),
            }
        }
        assert_eq!((checked, locked), (5, 195));
    }

    /// 50 wrong payment passwords of one person, each on a connection
    /// opened beforehand, released together and split across the nodes:
    /// the database counts each before it is checked, so exactly 5 are
    /// checked (4 wrong, and the fifth that locks it) and 45 refused
    /// unchecked; then B refuses the right one too.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_five_payment_passwords_are_checked_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let user = sign_up(
            &client,
            cluster.base(0),
            NAME,
            &cluster.operator_key().await,
        )
        .await;
        // Neither the phone's last six digits nor a birthday form.
        let tail = &user.phone[user.phone.len() - 6..];
        let (yy, mm, dd) = (
            &user.id_number[8..10],
            &user.id_number[10..12],
            &user.id_number[12..14],
        );
        let birthdays = [
            format!("{yy}{mm}{dd}"),
            format!("{mm}{dd}{yy}"),
            format!("{dd}{mm}{yy}"),
        ];
        let pins: Vec<&str> = ["830271", "604917", "275903"]
            .into_iter()
            .filter(|pin| *pin != tail && !birthdays.iter().any(|b| b == pin))
            .collect();
        let (pin, next) = (pins[0], pins[1]);
        let path = "/v1/me/payment-password";
        let (status, _, body) = call(
            &client,
            Method::PUT,
            format!("{}{path}", cluster.base(0)),
            Some(&user.token),
            Some(&json!({"payment_password": pin})),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let requests = (0..50)
            .map(|i| {
                let body = json!({"payment_password": next,
                    "old_payment_password": format!("{:06}", 100_000 + i * 7)});
                let url = format!("{}{path}", cluster.base(i));
                (Method::PUT, url, Some(user.token.clone()), Some(body))
            })
            .collect();
        let (mut checked, mut refused) = (0, 0);
        for (status, body) in burst(requests).await {
            match (status, code(&body)) {
                (403, "payment_password_incorrect") => checked += 1,
                (429, "payment_password_locked") if body["error"]["attempts_left"] == 0 => {
                    checked += 1;
                }
                (429, "payment_password_locked") => refused += 1,
                other => panic!("a wrong payment password answered {other:?}: {body}"),
            }
        }
        assert_eq!((checked, refused), (5, 45));
        let (status, _, body) = call(
            &client,
            Method::PUT,
            format!("{}{path}", cluster.base(1)),
            Some(&user.token),
            Some(&json!({"payment_password": next, "old_payment_password": pin})),
            &[],
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (429, "payment_password_locked"),
            "{body}"
        );
    }

    /// Ending every session at A: A refuses the token at once; B, which
    /// had just read the session into its cache, within its two seconds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ended_sessions_end_on_every_node_within_the_cache_lifetime() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let token = sign_up(
            &client,
            cluster.base(0),
            NAME,
            &cluster.operator_key().await,
        )
        .await
        .token;
        let (status, body) = get(&client, cluster.base(1), "/v1/me", &token).await;
        assert_eq!(status, 200, "{body}");
        let (status, _, body) = call(
            &client,
            Method::DELETE,
            format!("{}/v1/sessions", cluster.base(0)),
            Some(&token),
            None,
            &[],
        )
        .await;
        assert_eq!(status, 204, "{body}");
        let ended = Instant::now();
        let (status, body) = get(&client, cluster.base(0), "/v1/me", &token).await;
        assert_eq!((status, code(&body)), (401, "unauthenticated"), "{body}");
        loop {
            let (status, body) = get(&client, cluster.base(1), "/v1/me", &token).await;
            if status == 401 {
                break;
            }
            assert_eq!(status, 200, "{body}");
            assert!(
                ended.elapsed() < Duration::from_millis(2_500),
                "B still honours an ended session after {:?}",
                ended.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
