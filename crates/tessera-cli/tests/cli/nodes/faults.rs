//! Nodes that fail or do not belong: a node with another key ring is
//! refused, a node killed mid-binding loses nothing it acknowledged, and a
//! database that goes away is a 503 the nodes recover from by themselves.

mod postgres {
    use super::super::*;

    /// Every node must hold the key ring the database was written with: a
    /// copied key file joins; no key file, or other keys, is refused with a
    /// message that says what to do.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_joins_only_with_the_same_key_ring() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let client = client();
        // A creates a key file in its own data directory.
        let spec = NodeSpec::new(database.url(), None);
        let a = spec.start(dir.path().join("node-a")).await;
        let operator = spec.operator_key(&dir.path().join("node-a")).await;
        let token = sign_up(&client, &a.base, NAME, &operator).await.token;
        let number = approving_card();
        let (status, card) = bind(&client, &a.base, &token, &number).await;
        assert_eq!(status, 201, "{card}");

        // B with A's key file copied in: the same fingerprints, the same cards.
        std::fs::create_dir_all(dir.path().join("node-b")).unwrap();
        std::fs::copy(
            dir.path().join("node-a/tessera.keys"),
            dir.path().join("node-b/tessera.keys"),
        )
        .unwrap();
        let b = spec.start(dir.path().join("node-b")).await;
        let path = format!("/v1/cards/{}", card["id"].as_str().unwrap());
        let (status, body) = get(&client, &b.base, &path, &token).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = bind(&client, &b.base, &token, &number).await;
        assert_eq!((status, code(&body)), (409, "card_already_bound"), "{body}");

        // C without a key file, on a database holding data: refused.
        let (exit, stderr) = spec.refused(&dir.path().join("node-c")).await;
        assert_ne!(exit, Some(0));
        assert!(stderr.contains("is missing"), "{stderr}");
        assert!(!dir.path().join("node-c/tessera.keys").exists());

        // D with other keys: refused before it serves anything.
        let other = master_key();
        let spec_d = NodeSpec::new(database.url(), Some(&other));
        let (exit, stderr) = spec_d.refused(&dir.path().join("node-d")).await;
        assert_ne!(exit, Some(0));
        assert!(
            stderr.contains("key ring is not the one the database was written with"),
            "{stderr}"
        );
        assert!(stderr.contains(ENV_MASTER_KEY), "{stderr}");
        drop((a, b));
    }

    /// SIGKILL one node while both bind under load: every acknowledged
    /// binding is there, no card lacks its token (nor a token its card), and
    /// the other node never stopped answering.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_killed_mid_binding_loses_nothing_acknowledged() {
        let Some(mut cluster) = Cluster::start(&["--load-test", "--card-limit", "10000"]).await
        else {
            return;
        };
        let client = client();
        let mut tokens = Vec::new();
        let operator = cluster.operator_key().await;
        for i in 0..6 {
            tokens.push(
                sign_up(&client, cluster.base(i), NAME, &operator)
                    .await
                    .token,
            );
        }
        let (a, b) = (cluster.base(0).to_owned(), cluster.base(1).to_owned());
        let stop = Arc::new(AtomicBool::new(false));
        let killed = Arc::new(AtomicBool::new(false));
        let acked_at_a = Arc::new(AtomicUsize::new(0));
        let acked_at_b_after_kill = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + PATIENCE;
        let mut tasks = Vec::new();
        // Ten clients on A, six on B, each binding as fast as it can.
        for worker in 0..16 {
            let at_a = worker < 10;
            let base = if at_a { a.clone() } else { b.clone() };
            let token = tokens[worker % tokens.len()].clone();
            let (client, stop, killed) = (client.clone(), stop.clone(), killed.clone());
            let (acked_at_a, acked_at_b_after_kill) =
                (acked_at_a.clone(), acked_at_b_after_kill.clone());
            tasks.push(tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut failures = Vec::new();
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    let response = client
                        .post(format!("{base}/v1/cards"))
                        .bearer_auth(&token)
                        .json(&json!({"number": approving_card(), "holder_name": NAME}))
                        .timeout(PATIENCE)
                        .send()
                        .await;
                    let was_killed = killed.load(Ordering::SeqCst);
                    let response = match response {
                        Ok(response) => response,
                        // A's requests fail once it is killed: never acknowledged.
                        Err(_) if at_a && was_killed => break,
                        Err(error) => {
                            failures.push(format!("{base}: {error}"));
                            break;
                        }
                    };
                    let status = response.status().as_u16();
                    let Ok(body) = response.json::<Value>().await else {
                        if !(at_a && was_killed) {
                            failures.push(format!("{base}: an unreadable {status} answer"));
                        }
                        break;
                    };
                    if status != 201 {
                        failures.push(format!("{base}: {status} {body}"));
                        continue;
                    }
                    acknowledged.push((token.clone(), body["id"].as_str().unwrap().to_owned()));
                    if at_a {
                        acked_at_a.fetch_add(1, Ordering::SeqCst);
                    } else if killed.load(Ordering::SeqCst) {
                        acked_at_b_after_kill.fetch_add(1, Ordering::SeqCst);
                    }
                }
                (acknowledged, failures)
            }));
        }
        let wait_for = |counter: Arc<AtomicUsize>, at_least: usize| async move {
            while counter.load(Ordering::SeqCst) < at_least && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            counter.load(Ordering::SeqCst) >= at_least
        };
        assert!(
            wait_for(acked_at_a.clone(), 20).await,
            "A should bind under load"
        );
        let node_a = cluster.nodes.remove(0);
        killed.store(true, Ordering::SeqCst);
        tokio::task::spawn_blocking(move || node_a.kill_9())
            .await
            .unwrap();
        assert!(
            wait_for(acked_at_b_after_kill.clone(), 20).await,
            "B should keep binding after A died"
        );
        stop.store(true, Ordering::SeqCst);
        let mut acknowledged = Vec::new();
        for task in tasks {
            let (acks, failures) = task.await.unwrap();
            assert!(failures.is_empty(), "{failures:?}");
            acknowledged.extend(acks);
        }

        // Every acknowledged binding, read at B: the card with its token.
        for (token, card_id) in &acknowledged {
            let (status, card) = get(&client, &b, &format!("/v1/cards/{card_id}"), token).await;
            assert_eq!(status, 200, "acknowledged card {card_id} was lost");
            assert_eq!(card["status"], "active");
            assert_eq!(
                card["token"]["status"], "active",
                "a card without its token"
            );
        }
        // Every card the API shows has its token.
        let mut shown = 0;
        for token in &tokens {
            let (status, cards) = get(&client, &b, "/v1/cards?status=all", token).await;
            assert_eq!(status, 200, "{cards}");
            for card in cards["data"].as_array().unwrap() {
                assert!(card["token"].is_object(), "card without token: {card}");
                shown += 1;
            }
        }
        assert!(shown >= acknowledged.len());
        // And in the database itself: only a reservation (status binding,
        // no vaulted PAN) may lack a token, and no token lacks a finished card.
        let url = cluster.database.url();
        let orphan_cards = sql_count(
            url,
            "SELECT count(*) FROM cards c WHERE c.status <> 'binding' \
             AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.card_id = c.id)",
        )
        .await;
        assert_eq!(orphan_cards, 0, "a card without its token");
        let vaulted_reservations = sql_count(
            url,
            "SELECT count(*) FROM cards WHERE status = 'binding' \
             AND (pan_ciphertext IS NOT NULL OR EXISTS \
                  (SELECT 1 FROM tokens t WHERE t.card_id = cards.id))",
        )
        .await;
        assert_eq!(vaulted_reservations, 0, "a half-made card");
        let orphan_tokens = sql_count(
            url,
            "SELECT count(*) FROM tokens t WHERE NOT EXISTS \
             (SELECT 1 FROM cards c WHERE c.id = t.card_id AND c.status <> 'binding')",
        )
        .await;
        assert_eq!(orphan_tokens, 0, "a token without its card");
        let active = sql_count(url, "SELECT count(*) FROM cards WHERE status = 'active'").await;
        assert_eq!(usize::try_from(active).unwrap(), shown);
    }

    /// The database goes away behind a TCP proxy (the shared PostgreSQL
    /// server keeps running) and comes back: meanwhile the node answers
    /// 503 database_unavailable with Retry-After within its acquire
    /// timeout; afterwards it serves again by itself, the same process.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_database_that_goes_away_is_503_until_it_returns() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let proxy = Proxy::start(server_address(database.url())).await;
        let key = master_key();
        let spec = NodeSpec::new(&proxied_url(database.url(), proxy.port), Some(&key))
            .env("TESSERA_DATABASE__ACQUIRE_TIMEOUT_SECS", "1");
        let dir = tempfile::tempdir().unwrap();
        let mut node = spec.start(dir.path().join("node")).await;
        let base = node.base.clone();
        let client = client();
        let operator = spec.operator_key(&dir.path().join("admin")).await;
        let user = sign_up(&client, &base, NAME, &operator).await;
        let token = user.token.clone();
        let (status, card) = bind(&client, &base, &token, &approving_card()).await;
        assert_eq!(status, 201, "{card}");

        proxy.cut();
        let started = Instant::now();
        let bind_body = json!({"number": approving_card(), "holder_name": NAME});
        let sign_in_body = json!({"phone": user.phone, "password": user.password});
        let requests = [
            (Method::GET, "/v1/cards", Some(token.as_str()), None),
            (
                Method::POST,
                "/v1/cards",
                Some(token.as_str()),
                Some(&bind_body),
            ),
            (Method::POST, "/v1/sessions", None, Some(&sign_in_body)),
        ];
        for (method, path, bearer, body) in requests {
            let (status, headers, answer) =
                call(&client, method, format!("{base}{path}"), bearer, body, &[]).await;
            assert_eq!(status, 503, "{path}: {answer}");
            let error = &answer["error"];
            assert_eq!(error["code"], "database_unavailable", "{answer}");
            assert_eq!(error["retryable"], true, "{answer}");
            for field in ["message", "remedy", "trace_id"] {
                assert!(
                    error[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{field} missing in {answer}"
                );
            }
            let retry_after = headers.get("retry-after").map(|v| v.to_str().unwrap());
            assert!(
                retry_after.is_some_and(|v| v.parse::<u64>().is_ok()),
                "{retry_after:?}"
            );
        }
        let (status, _, ready) = call(
            &client,
            Method::GET,
            format!("{base}/readyz"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(status, 503, "{ready}");
        let (status, _, _) = call(
            &client,
            Method::GET,
            format!("{base}/healthz"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200, "the process itself is up");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "each answer should come within the 1 s acquire timeout, not hang"
        );

        proxy.restore();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (status, body) = get(&client, &base, "/v1/cards", &token).await;
            if status == 200 {
                assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
                break;
            }
            assert_eq!(code(&body), "database_unavailable", "{body}");
            assert!(
                Instant::now() < deadline,
                "not back after the database returned"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (status, body) = bind(&client, &base, &token, &approving_card()).await;
        assert_eq!(status, 201, "{body}");
        let (status, _, ready) = call(
            &client,
            Method::GET,
            format!("{base}/readyz"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200, "{ready}");
        assert!(
            node.child.try_wait().unwrap().is_none(),
            "recovered without a restart"
        );
        drop(node);
        drop(proxy);
    }

    /// The database goes away while a binding waits for its bank, and
    /// comes back: the binding answers 503, and what it could not write
    /// then (its idempotency record, its reservation's release, its
    /// attempt) is written once the database is back. A retry with the
    /// same key then binds the card, where a record left in progress
    /// would hold it until the issuer timeout and answer 409.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn what_a_binding_could_not_write_is_written_when_the_database_returns() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let proxy = Proxy::start(server_address(database.url())).await;
        let spec = NodeSpec::new(
            &proxied_url(database.url(), proxy.port),
            Some(&master_key()),
        )
        .env("TESSERA_DATABASE__ACQUIRE_TIMEOUT_SECS", "1")
        .env("TESSERA_SANDBOX_ISSUER__SLOW_MS", "1500");
        let dir = tempfile::tempdir().unwrap();
        let node = spec.start(dir.path().join("node")).await;
        let base = node.base.clone();
        let client = client();
        let operator = spec.operator_key(&dir.path().join("admin")).await;
        let token = sign_up(&client, &base, NAME, &operator).await.token;
        let slow_card = sandbox::card_number("622848", 19, Outcome::Slow).unwrap();
        let body = json!({"number": slow_card, "holder_name": NAME});
        let send = || {
            call(
                &client,
                Method::POST,
                format!("{base}/v1/cards"),
                Some(&token),
                Some(&body),
                &[("Idempotency-Key", "cut-off-1")],
            )
        };

        // Cut while the bank takes its 1.5 s; back a second later.
        let (first, ()) = tokio::join!(send(), async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            proxy.cut();
        });
        let (status, _, answer) = first;
        assert_eq!(
            (status, code(&answer)),
            (503, "database_unavailable"),
            "{answer}"
        );
        let first_trace = answer["error"]["trace_id"].as_str().unwrap().to_owned();
        tokio::time::sleep(Duration::from_secs(1)).await;
        proxy.restore();

        let (status, headers, card) = send().await;
        assert_eq!(status, 201, "{card}");
        assert!(headers.get("idempotent-replayed").is_none());
        let cards = live_cards(&client, &base, &token).await;
        assert_eq!(cards.len(), 1, "{cards:?}");
        let (status, _, replay) = send().await;
        assert_eq!(status, 201, "{replay}");
        assert_eq!(replay["id"], card["id"]);

        // The first try is on record, with the cause that ended it.
        let deadline = Instant::now() + PATIENCE;
        let attempt = loop {
            let (status, _, attempts) = call(
                &client,
                Method::GET,
                format!("{base}/v1/support/attempts?trace_id={first_trace}"),
                Some(&operator),
                None,
                &[],
            )
            .await;
            assert_eq!(status, 200, "{attempts}");
            if let Some(attempt) = attempts["data"].as_array().unwrap().first() {
                break attempt.clone();
            }
            assert!(
                Instant::now() < deadline,
                "the first attempt never came on record"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(attempt["error_code"], "database_unavailable", "{attempt}");
        drop(node);
        drop(proxy);
    }
}
