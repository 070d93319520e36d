//! A PostgreSQL primary that dies under load, and its synchronous standby
//! promoted in its place (`scripts/pg-standby.sh` sets up both): two nodes
//! whose database URL names both hosts move to the new primary by
//! themselves, every binding they acknowledged is there, and while no host
//! is a primary they answer `database_unavailable` with `Retry-After`.

mod postgres {
    use std::process::Command;

    use super::super::*;

    const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-standby.sh");

    /// A primary and its standby under a directory of their own, stopped
    /// and removed when dropped.
    struct StandbyPair {
        dir: PathBuf,
        url: String,
        standby_port: u16,
    }

    impl StandbyPair {
        /// Both servers up, or None after saying why (a panic where
        /// PostgreSQL is required).
        fn up(parent: &Path) -> Option<StandbyPair> {
            let dir = parent.join("pg");
            let (primary_port, standby_port) = (free_port(), free_port());
            let output = Command::new(SCRIPT)
                .arg("up")
                .arg(&dir)
                .args([primary_port.to_string(), standby_port.to_string()])
                .output()
                .unwrap();
            if !output.status.success() {
                let why = String::from_utf8_lossy(&output.stderr);
                assert!(
                    !tessera_store::test_support::postgres_required(),
                    "could not set up a primary and a standby: {why}"
                );
                eprintln!("skipped: no primary and standby could be set up: {why}");
                return None;
            }
            let url = String::from_utf8(output.stdout).unwrap().trim().to_owned();
            Some(StandbyPair {
                dir,
                url,
                standby_port,
            })
        }

        fn run(&self, command: &str) {
            let output = Command::new(SCRIPT)
                .arg(command)
                .arg(&self.dir)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "pg-standby.sh {command}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    impl Drop for StandbyPair {
        fn drop(&mut self) {
            let _ = Command::new(SCRIPT).arg("down").arg(&self.dir).output();
        }
    }

    fn log_tail(log: &Path) -> String {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    struct Acknowledged {
        token: String,
        card_id: String,
        /// When the binding was first sent, and when it was answered.
        sent: Instant,
        answered: Instant,
    }

    /// What one client saw.
    #[derive(Default)]
    struct Seen {
        /// Every binding answered as done.
        acknowledged: Vec<Acknowledged>,
        /// Answers a person would call wrong: a 500, a 503 without
        /// `Retry-After`, a code that has no place here.
        wrong: Vec<String>,
        unavailable: usize,
        /// The last such answer, to say where a client was stuck.
        last_wait: Option<String>,
    }

    /// Kill the primary while two nodes bind under load, promote the
    /// standby a second later (as an orchestrator would): both nodes move
    /// to it within 30 s, no acknowledged binding is lost, and requests in
    /// between get `database_unavailable` with `Retry-After`. The URL names
    /// the standby first, so the nodes also show they pick the primary at
    /// start.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_promoted_standby_takes_over_and_nothing_acknowledged_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let Some(pair) = StandbyPair::up(dir.path()) else {
            return;
        };
        let hosts: Vec<&str> = pair
            .url
            .trim_start_matches("postgres://postgres@")
            .trim_end_matches("/postgres")
            .split(',')
            .collect();
        let url = format!("postgres://postgres@{},{}/postgres", hosts[1], hosts[0]);
        // --load-test lifts the per-person binding limits this load meets.
        let spec = NodeSpec::new(&url, Some(&master_key()))
            .arg("--load-test")
            .arg("--card-limit")
            .arg("10000");
        let (a, b) = tokio::join!(
            spec.start(dir.path().join("node-a")),
            spec.start(dir.path().join("node-b"))
        );
        let bases = [a.base.clone(), b.base.clone()];
        let client = client();
        let operator = spec.operator_key(&dir.path().join("admin")).await;
        let mut tokens = Vec::new();
        for i in 0..4 {
            tokens.push(sign_up(&client, &bases[i % 2], NAME, &operator).await.token);
        }

        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + 3 * PATIENCE;
        let mut clients = Vec::new();
        for worker in 0..8 {
            let base = bases[worker % 2].clone();
            let token = tokens[worker % tokens.len()].clone();
            let (client, stop, acked) = (client.clone(), stop.clone(), acked.clone());
            clients.push(tokio::spawn(async move {
                let mut seen = Seen::default();
                for binding in 0.. {
                    if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                        break;
                    }
                    let key = format!("failover-{worker}-{binding}");
                    let sent = Instant::now();
                    let body = json!({"number": approving_card(), "holder_name": NAME});
                    // One binding, retried with its key until it is answered
                    // for good, as the app does on a 503.
                    loop {
                        let (status, headers, answer) = call(
                            &client,
                            Method::POST,
                            format!("{base}/v1/cards"),
                            Some(&token),
                            Some(&body),
                            &[("Idempotency-Key", key.as_str())],
                        )
                        .await;
                        let retry_after = headers.get("retry-after").is_some();
                        match (status, code(&answer)) {
                            (201, _) => {
                                let id = answer["id"].as_str().unwrap().to_owned();
                                seen.acknowledged.push(Acknowledged {
                                    token: token.clone(),
                                    card_id: id,
                                    sent,
                                    answered: Instant::now(),
                                });
                                acked.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                            // The first try was bound but its answer lost:
                            // the retry names the card.
                            (409, "card_already_bound") => {
                                let id = answer["error"]["card_id"].as_str().map(str::to_owned);
                                match id {
                                    Some(id) => seen.acknowledged.push(Acknowledged {
                                        token: token.clone(),
                                        card_id: id,
                                        sent,
                                        answered: Instant::now(),
                                    }),
                                    None => {
                                        seen.wrong.push(format!("409 without the card: {answer}"))
                                    }
                                }
                                break;
                            }
                            (503, "database_unavailable") | (409, "request_in_progress")
                                if retry_after =>
                            {
                                seen.unavailable += 1;
                                seen.last_wait = Some(format!("{base}: {status} {answer}"));
                            }
                            _ => {
                                seen.wrong.push(format!("{base}: {status} {answer}"));
                                break;
                            }
                        }
                        if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                            break;
                        }
                        // Sooner than Retry-After says, to time the switch.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                seen
            }));
        }
        let wait_for = |at_least: usize| {
            let acked = acked.clone();
            async move {
                while acked.load(Ordering::SeqCst) < at_least && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                acked.load(Ordering::SeqCst) >= at_least
            }
        };
        assert!(
            wait_for(40).await,
            "the nodes should bind before the failover"
        );

        let acked_before = acked.load(Ordering::SeqCst);
        pair.run("kill-primary");
        let killed_at = Instant::now();
        tokio::time::sleep(Duration::from_secs(1)).await;
        pair.run("promote");
        let promoted_at = Instant::now();
        let recovered = wait_for(acked_before + 80).await;
        stop.store(true, Ordering::SeqCst);
        let mut seen = Seen::default();
        let mut stuck = Vec::new();
        for task in clients {
            let one = task.await.unwrap();
            seen.acknowledged.extend(one.acknowledged);
            seen.wrong.extend(one.wrong);
            seen.unavailable += one.unavailable;
            stuck.extend(one.last_wait);
        }
        assert!(
            recovered,
            "the nodes should bind again on the promoted standby; the clients last waited on \
             {stuck:#?}\nnode A's log ends:\n{}",
            log_tail(&a.log)
        );
        assert!(seen.wrong.is_empty(), "{:#?}", seen.wrong);
        assert!(
            seen.unavailable > 0,
            "no request met the failover: it was not exercised"
        );
        // From the kill to the first binding sent after it that was done.
        let recovered_in = seen
            .acknowledged
            .iter()
            .filter(|ack| ack.sent > killed_at)
            .map(|ack| ack.answered - killed_at)
            .min()
            .unwrap();
        eprintln!(
            "failover: the first binding sent after the primary was killed was done {:.2} s \
             after the kill, the standby promoted {:.2} s after it; {} bindings acknowledged \
             in all, {} answers of database_unavailable or request_in_progress",
            recovered_in.as_secs_f64(),
            (promoted_at - killed_at).as_secs_f64(),
            seen.acknowledged.len(),
            seen.unavailable
        );
        assert!(recovered_in <= Duration::from_secs(30), "{recovered_in:?}");

        // Every acknowledged binding is on the new primary, read there
        // directly, and through both nodes.
        let new_primary = format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            pair.standby_port
        );
        let ids: Vec<String> = seen
            .acknowledged
            .iter()
            .map(|ack| ack.card_id.clone())
            .collect();
        let found: i64 = {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&new_primary).await.unwrap();
            let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert!(!in_recovery, "the standby was not promoted");
            sqlx::query_scalar(
                "SELECT count(*) FROM cards c JOIN tokens t ON t.card_id = c.id \
                 WHERE c.status = 'active' AND c.id = ANY($1)",
            )
            .bind(&ids)
            .fetch_one(&mut conn)
            .await
            .unwrap()
        };
        assert_eq!(
            usize::try_from(found).unwrap(),
            ids.len(),
            "acknowledged bindings were lost"
        );
        for (i, ack) in seen.acknowledged.iter().enumerate() {
            let path = format!("/v1/cards/{}", ack.card_id);
            let (status, card) = get(&client, &bases[i % 2], &path, &ack.token).await;
            assert_eq!(status, 200, "{card}");
        }
        for base in &bases {
            let (status, _, body) = call(
                &client,
                Method::GET,
                format!("{base}/readyz"),
                None,
                None,
                &[],
            )
            .await;
            assert_eq!(status, 200, "{base}: {body}");
        }
        drop((a, b));
    }
}
