//! Payments across nodes: one cryptogram approved once however its
//! submissions are split, refunds that never give back more than was paid
//! however they are split, limited-use key batches that never overlap when
//! both nodes hand them out, a suspension made at one node obeyed by the
//! other, and an issuer's open breaker obeyed by both.

mod postgres {
    use std::collections::BTreeSet;

    use tessera_server::test_support::{Device, purchase};

    use super::super::*;

    /// A user of the cluster with one approved card bound at A: its
    /// token's ref, and their session.
    async fn holder(cluster: &Cluster, client: &Client) -> (String, String) {
        let token = sign_up(client, cluster.base(0), NAME, &cluster.operator_key().await)
            .await
            .token;
        let (status, card) = bind(client, cluster.base(0), &token, &approving_card()).await;
        assert_eq!(status, 201, "{card}");
        (card["token"]["ref"].as_str().unwrap().to_owned(), token)
    }

    /// [`holder`] with a merchant key for M1 and a device holding three
    /// keys handed out by node `node`.
    async fn paying(
        cluster: &Cluster,
        client: &Client,
        node: usize,
    ) -> (String, String, String, Device) {
        let (token_ref, token) = holder(cluster, client).await;
        let merchant = cluster.key(&["merchant", "--merchant", "M1"]).await;
        let batch = keys(client, cluster.base(node), &token, &token_ref, 3).await;
        (
            token_ref,
            token,
            merchant,
            Device::from_keys(&batch).unwrap(),
        )
    }

    /// A batch of `count` limited-use keys for `device_id`, from node `base`.
    async fn keys(client: &Client, base: &str, token: &str, token_ref: &str, count: u32) -> Value {
        let (status, _, body) = call(
            client,
            Method::POST,
            format!("{base}/v1/tokens/{token_ref}/keys"),
            Some(token),
            Some(&json!({"device_id": "phone-1", "count": count})),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn pay(client: &Client, base: &str, merchant: &str, body: &Value) -> (u16, Value) {
        let (status, _, answer) = call(
            client,
            Method::POST,
            format!("{base}/v1/payments"),
            Some(merchant),
            Some(body),
            &[],
        )
        .await;
        (status, answer)
    }

    /// 16 submissions of one cryptogram, released together and split
    /// across the nodes: exactly one approval, the rest `atc_replayed`,
    /// and all 16 on record.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_cryptogram_is_approved_once_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let (_, _, merchant, mut device) = paying(&cluster, &client, 1).await;
        let signed = device.sign(&purchase(6600, "M1")).unwrap();
        let barrier = Arc::new(Barrier::new(16));
        let mut tasks = Vec::new();
        for i in 0..16 {
            let (barrier, base) = (barrier.clone(), cluster.base(i).to_owned());
            let (merchant, body) = (merchant.clone(), signed.body.clone());
            tasks.push(tokio::spawn(async move {
                let client = super::super::client();
                let (status, _, _) = call(
                    &client,
                    Method::GET,
                    format!("{base}/healthz"),
                    None,
                    None,
                    &[],
                )
                .await;
                assert_eq!(status, 200);
                barrier.wait().await;
                pay(&client, &base, &merchant, &body).await
            }));
        }
        let (mut approved, mut codes) = (0, BTreeSet::new());
        for task in tasks {
            let (status, body) = task.await.unwrap();
            match status {
                201 => approved += 1,
                402 => {
                    codes.insert(code(&body).to_owned());
                }
                other => panic!("a payment answered {other}: {body}"),
            }
        }
        assert_eq!(approved, 1);
        assert_eq!(codes, BTreeSet::from(["atc_replayed".to_owned()]));
        let url = cluster.database.url();
        assert_eq!(
            sql_count(
                url,
                "SELECT count(*) FROM payments WHERE status = 'approved'"
            )
            .await,
            1
        );
        assert_eq!(sql_count(url, "SELECT count(*) FROM payments").await, 16);
    }

    /// Twenty refunds of 1.50 CNY on a payment of 10.00, split over both
    /// nodes and released together, every connection opened first: six
    /// are accepted (9.00), fourteen refused, and the database holds six.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn twenty_refunds_split_over_both_nodes_give_back_at_most_the_payment() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let (_, _, merchant, mut device) = paying(&cluster, &client, 0).await;
        let signed = device.sign(&purchase(1000, "M1")).unwrap();
        let (status, paid) = pay(&client, cluster.base(0), &merchant, &signed.body).await;
        assert_eq!(status, 201, "{paid}");
        let id = paid["id"].as_str().unwrap().to_owned();
        let barrier = Arc::new(Barrier::new(20));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (barrier, base) = (barrier.clone(), cluster.base(i).to_owned());
            let (merchant, id) = (merchant.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let client = super::super::client();
                let (status, _, _) = call(
                    &client,
                    Method::GET,
                    format!("{base}/healthz"),
                    None,
                    None,
                    &[],
                )
                .await;
                assert_eq!(status, 200);
                barrier.wait().await;
                let (status, _, body) = call(
                    &client,
                    Method::POST,
                    format!("{base}/v1/payments/{id}/refunds"),
                    Some(&merchant),
                    Some(&json!({"amount": 150})),
                    &[],
                )
                .await;
                (status, body)
            }));
        }
        let (mut given_back, mut refused) = (0, 0);
        for task in tasks {
            let (status, body) = task.await.unwrap();
            match status {
                201 => given_back += body["amount"].as_i64().unwrap(),
                422 => {
                    assert_eq!(code(&body), "refund_exceeds_payment", "{body}");
                    refused += 1;
                }
                other => panic!("a refund answered {other}: {body}"),
            }
        }
        assert!(given_back <= 1000, "{given_back} given back of 1000");
        assert_eq!((given_back, refused), (900, 14));
        let url = cluster.database.url();
        assert_eq!(
            sql_count(
                url,
                "SELECT count(*) FROM refunds WHERE status = 'accepted'"
            )
            .await,
            6
        );
        let (status, shown) = get(
            &client,
            cluster.base(1),
            &format!("/v1/payments/{id}"),
            &merchant,
        )
        .await;
        assert_eq!(status, 200, "{shown}");
        assert_eq!(shown["refunded"], 900);
    }

    /// Ten batches of five keys for one token, asked at once of both
    /// nodes: fifty keys, no ATC handed out twice.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn key_batches_never_overlap_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let (token_ref, token) = holder(&cluster, &client).await;
        let barrier = Arc::new(Barrier::new(10));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let (barrier, base) = (barrier.clone(), cluster.base(i).to_owned());
            let (token, token_ref) = (token.clone(), token_ref.clone());
            tasks.push(tokio::spawn(async move {
                let client = super::super::client();
                barrier.wait().await;
                keys(&client, &base, &token, &token_ref, 5).await
            }));
        }
        let mut atcs = BTreeSet::new();
        let mut handed = 0;
        for task in tasks {
            let device = Device::from_keys(&task.await.unwrap()).unwrap();
            for (atc, _) in &device.keys {
                handed += 1;
                assert!(atcs.insert(atc.clone()), "ATC {atc} handed out twice");
            }
        }
        assert_eq!((handed, atcs.len()), (50, 50));
    }

    /// The cardholder suspends the token at A: B refuses its payments at
    /// once; resumed at B, A approves again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_suspension_at_one_node_holds_at_the_other() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = client();
        let (token_ref, token, merchant, mut device) = paying(&cluster, &client, 0).await;
        let change = |node: usize, what: &str| {
            let url = format!("{}/v1/tokens/{token_ref}/{what}", cluster.base(node));
            let (client, token) = (client.clone(), token.clone());
            async move {
                let (status, _, body) = call(
                    &client,
                    Method::POST,
                    url,
                    Some(&token),
                    Some(&json!({"reason": "phone mislaid"})),
                    &[],
                )
                .await;
                assert_eq!(status, 200, "{body}");
            }
        };
        change(0, "suspend").await;
        let signed = device.sign(&purchase(100, "M1")).unwrap();
        let (status, body) = pay(&client, cluster.base(1), &merchant, &signed.body).await;
        assert_eq!((status, code(&body)), (402, "token_suspended"), "{body}");
        change(1, "resume").await;
        let signed = device.sign(&purchase(100, "M1")).unwrap();
        let (status, body) = pay(&client, cluster.base(0), &merchant, &signed.body).await;
        assert_eq!(status, 201, "{body}");
    }

    /// A bank that stops answering at A, judged after four attempts: its
    /// breaker opens, and B answers that bank's bindings at once without
    /// asking it (the attempt says `circuit_open`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_open_breaker_is_obeyed_by_both_nodes() {
        let Some(cluster) = Cluster::start_env(
            &["--card-limit", "50"],
            &[
                ("TESSERA_HEALTH__ANOMALY__MIN_SAMPLES", "4"),
                ("TESSERA_HEALTH__EVALUATE_INTERVAL_MS", "0"),
                ("TESSERA_LIMITS__USER_BINDINGS_PER_DAY", "32"),
            ],
        )
        .await
        else {
            return;
        };
        let client = client();
        let operator = cluster.operator_key().await;
        let support = cluster.key(&["support"]).await;
        let token = sign_up(&client, cluster.base(0), NAME, &operator)
            .await
            .token;
        let (status, _, body) = call(
            &client,
            Method::PUT,
            format!("{}/v1/sandbox/issuer", cluster.base(0)),
            Some(&operator),
            Some(&json!({"issuer_code": "ABC", "latency_ms": 0, "failure_rate": 1.0})),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        for _ in 0..4 {
            let (status, body) = bind(&client, cluster.base(0), &token, &approving_card()).await;
            assert_eq!((status, code(&body)), (503, "issuer_unavailable"), "{body}");
        }
        // The breaker is judged after the attempt, off the request: wait
        // until B answers without asking the bank.
        let waited = Instant::now();
        loop {
            let (status, _, body) = call(
                &client,
                Method::POST,
                format!("{}/v1/cards", cluster.base(1)),
                Some(&token),
                Some(&json!({"number": approving_card(), "holder_name": NAME})),
                &[],
            )
            .await;
            assert_eq!((status, code(&body)), (503, "issuer_unavailable"), "{body}");
            let trace = body["error"]["trace_id"].as_str().unwrap().to_owned();
            let (status, attempts) = get(
                &client,
                cluster.base(1),
                &format!("/v1/support/attempts?trace_id={trace}"),
                &support,
            )
            .await;
            assert_eq!(status, 200, "{attempts}");
            if attempts["data"][0]["issuer_response"] == "circuit_open" {
                break;
            }
            assert!(waited.elapsed() < PATIENCE, "B kept asking the bank");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
