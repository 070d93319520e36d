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
