//! Micro-benchmarks of the core's hot paths. Run: cargo bench -p tessera-core
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

fn main() {
    divan::main();
}

/// The vault and token issuance: what one card binding and one detokenisation
/// cost in the core.
mod vault_bench {
    use divan::{Bencher, black_box};
    use tessera_core::bins::Brand;
    use tessera_core::card::pan::Pan;
    use tessera_core::token::{self, BinControllerId, Par, TokenBinRanges};
    use tessera_core::vault::{self, KeyRing};

    fn setup() -> (KeyRing, Pan) {
        let ring = KeyRing::generate().unwrap();
        let pan = Pan::parse("6222021234567890128").unwrap();
        (ring, pan)
    }

    #[divan::bench]
    fn seal_pan(bencher: Bencher) {
        let (ring, pan) = setup();
        bencher.bench_local(|| {
            ring.seal(black_box("card_0123456789"), black_box(&pan))
                .unwrap()
        });
    }

    #[divan::bench]
    fn open_pan(bencher: Bencher) {
        let (ring, pan) = setup();
        let sealed = ring.seal("card_0123456789", &pan).unwrap();
        bencher.bench_local(|| {
            ring.open(black_box("card_0123456789"), black_box(&sealed))
                .unwrap()
        });
    }

    #[divan::bench]
    fn fingerprint_pan(bencher: Bencher) {
        let (ring, pan) = setup();
        bencher.bench_local(|| ring.fingerprint(black_box(&pan)));
    }

    /// The BIN check is a constant predicate here: the BIN index's own cost is
    /// measured with the index.
    #[divan::bench]
    fn issue_token_pan(bencher: Bencher) {
        let (_, pan) = setup();
        let ranges = TokenBinRanges::default();
        bencher.bench_local(|| {
            token::issue_token_pan(black_box(&pan), &Brand::UnionPay, &ranges, |_| false).unwrap()
        });
    }

    #[divan::bench]
    fn derive_par(bencher: Bencher) {
        let (ring, pan) = setup();
        let controller = BinControllerId::default();
        bencher.bench_local(|| Par::derive(&ring, &controller, black_box(&pan)));
    }

    #[divan::bench]
    fn token_ref(bencher: Bencher) {
        bencher.bench_local(|| token::TokenRef::generate().unwrap());
    }

    /// An operator action, not a hot path: Argon2id with the backup's default
    /// parameters (64 MiB, 3 passes) dominates.
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn backup_key_ring(bencher: Bencher) {
        let (ring, _) = setup();
        bencher.bench_local(|| vault::backup(&ring, "a long enough passphrase").unwrap());
    }
}

/// What the server does per in-app payment: session key from the ATC, the
/// retail MAC over the CDOL1 data, a constant-time compare.
mod emv_bench {
    use divan::{Bencher, black_box};
    use tessera_core::emv::{Arqc, Atc, DerivationOption, IccMasterKey, IssuerMasterKey, Psn};

    /// A 19-digit token PAN (Option B) and 33 bytes of CDOL1 data plus an
    /// 18-byte IAD: the common shape of a Token 2.0 cryptogram.
    fn fixture() -> (IccMasterKey, Atc, Vec<u8>, Arqc) {
        let imk = IssuerMasterKey::from_bytes(&[0x5A; 16]).unwrap();
        let psn = Psn::new(1).unwrap();
        let mk =
            IccMasterKey::derive(&imk, "6212345678901234565", psn, DerivationOption::B).unwrap();
        let atc = Atc::new(0x0042);
        let data: Vec<u8> = (0u8..51).collect();
        let arqc = Arqc::generate(&mk.session_key(atc), &data);
        (mk, atc, data, arqc)
    }

    #[divan::bench]
    fn emv_verify_arqc(bencher: Bencher) {
        let (mk, atc, data, arqc) = fixture();
        bencher.bench_local(|| {
            let sk = black_box(&mk).session_key(black_box(atc));
            black_box(&arqc).verify(&sk, black_box(&data)).unwrap();
        });
    }

    /// Deriving the ICC master key too, for a server that does not keep it.
    #[divan::bench]
    fn emv_derive_mk_and_verify_arqc(bencher: Bencher) {
        let (_, atc, data, arqc) = fixture();
        let imk = IssuerMasterKey::from_bytes(&[0x5A; 16]).unwrap();
        let psn = Psn::new(1).unwrap();
        bencher.bench_local(|| {
            let mk = IccMasterKey::derive(
                black_box(&imk),
                black_box("6212345678901234565"),
                psn,
                DerivationOption::B,
            )
            .unwrap();
            let sk = mk.session_key(black_box(atc));
            black_box(&arqc).verify(&sk, black_box(&data)).unwrap();
        });
    }
}

/// BIN lookups as a binding does them (one per card), and the start-up cost
/// of building the index from the tables compiled into the binary.
mod bins_bench {
    use divan::{Bencher, black_box};
    use std::sync::OnceLock;
    use tessera_core::bins::BinIndex;

    fn index() -> &'static BinIndex {
        static INDEX: OnceLock<BinIndex> = OnceLock::new();
        INDEX.get_or_init(|| BinIndex::builtin().unwrap())
    }

    /// Decompress, parse and index 2,354 + 327,012 rows and 30 ranges.
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn bins_build_builtin() -> BinIndex {
        BinIndex::builtin().unwrap()
    }

    /// 436742 at 19 digits: the China table answers (CCB debit).
    #[divan::bench]
    fn bins_lookup_china_hit(bencher: Bencher) {
        let index = index();
        bencher.bench_local(|| index.lookup_with_len(black_box("4367420000000000003"), Some(19)));
    }

    /// 424242: not in the China table, the global table answers.
    #[divan::bench]
    fn bins_lookup_global_hit(bencher: Bencher) {
        let index = index();
        bencher.bench_local(|| index.lookup_with_len(black_box("4242424242424242"), Some(16)));
    }

    /// 222240: in neither table; the scheme ranges answer (Mastercard).
    #[divan::bench]
    fn bins_lookup_scheme_fallback(bencher: Bencher) {
        let index = index();
        bencher.bench_local(|| index.lookup_with_len(black_box("2222400070000005"), Some(16)));
    }

    /// The token module's overlap check for a candidate token BIN.
    #[divan::bench]
    fn bins_is_issued_prefix(bencher: Bencher) {
        let index = index();
        bencher.bench_local(|| index.is_issued_prefix(black_box("999999")));
    }
}

/// The cryptography of one payment as the server runs it, and of one batch
/// of limited-use keys: everything but the database and the issuer.
mod payments_bench {
    use chrono::NaiveDate;
    use divan::{Bencher, black_box};
    use tessera_core::emv::{
        Arpc, Arqc, Atc, DerivationOption, IccMasterKey, Psn, TokenProfile, Transaction, profile,
    };
    use tessera_core::token::TokenPan;
    use tessera_core::vault::KeyRing;

    const TOKEN_PAN: &str = "6299901234567890121";

    fn transaction() -> Transaction {
        Transaction {
            amount: 1234,
            other_amount: 0,
            terminal_country: 156,
            tvr: [0; 5],
            currency: 156,
            date: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            transaction_type: 0,
            unpredictable_number: [0x12, 0x34, 0x56, 0x78],
        }
    }

    /// Step 4 of `POST /v1/payments` and its answer: the IMK-AC from the key
    /// ring (HKDF), the ICC master key (Option B, 19 digits), the session
    /// key, the CDOL1 data, the ARQC check and the ARPC.
    #[divan::bench]
    fn payments_verify_and_answer(bencher: Bencher) {
        let ring = KeyRing::generate().unwrap();
        let profile = TokenProfile { dki: 1 };
        let atc = Atc::new(7);
        let imk = ring.issuer_master_key("629990", 1).unwrap();
        let key = TokenProfile::session_key(&imk, TOKEN_PAN, Psn::default(), atc).unwrap();
        let arqc = Arqc::generate(
            &key,
            &profile.cdol1(&transaction(), atc).to_bytes().unwrap(),
        );
        let transaction = transaction();
        bencher.bench_local(|| {
            let imk = ring.issuer_master_key(black_box("629990"), 1).unwrap();
            let key =
                TokenProfile::session_key(&imk, black_box(TOKEN_PAN), Psn::default(), atc).unwrap();
            let data = profile
                .cdol1(black_box(&transaction), atc)
                .to_bytes()
                .unwrap();
            black_box(&arqc).verify(&key, &data).unwrap();
            Arpc::method1(&key, &arqc, profile::ARC_APPROVED)
        });
    }

    /// `POST /v1/tokens/{ref}/keys` with the default batch of 10.
    #[divan::bench]
    fn payments_limited_use_keys_10(bencher: Bencher) {
        let ring = KeyRing::generate().unwrap();
        bencher.bench_local(|| {
            let imk = ring.issuer_master_key(black_box("629990"), 1).unwrap();
            let master = IccMasterKey::derive(
                &imk,
                black_box(TOKEN_PAN),
                Psn::default(),
                DerivationOption::B,
            )
            .unwrap();
            (1..=10)
                .map(|atc| master.session_key(Atc::new(atc)))
                .collect::<Vec<_>>()
        });
    }

    /// Finding a token by the token PAN a merchant sent.
    #[divan::bench]
    fn payments_token_fingerprint(bencher: Bencher) {
        let ring = KeyRing::generate().unwrap();
        let token_pan = TokenPan::parse(TOKEN_PAN).unwrap();
        bencher.bench_local(|| ring.token_fingerprint(black_box(&token_pan)));
    }
}
