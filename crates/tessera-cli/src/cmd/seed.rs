//! `tessera seed`: fills the service's database with realistic users and
//! bound cards, so that scale can be measured (`tessera bench --seeded-users`).
//! Every card goes through the real field checks, BIN lookup, support
//! policy, vault sealing, fingerprint, PAR and token issuance; only the
//! issuer call is skipped, and rows are written in batches, one transaction
//! each (`Store::seed_batch`). Users share one Argon2 hash of `PASSWORD`.
//!
//! Token PANs are drawn at random, as a bind draws them, and must be unique
//! across the whole database (`tokens_pan_fingerprint`): before a batch is
//! written, any token PAN that a stored token or an earlier card of the
//! batch already has is drawn again, as a bind does on conflict.

use std::collections::HashSet;
use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike as _, Utc};
use tessera_core::bins::Brand;
use tessera_core::card::check::{CardFields, check_fields};
use tessera_core::card::expiry::wallet_today;
use tessera_core::card::holder_name::HolderName;
use tessera_core::card::luhn;
use tessera_core::card::pan::Pan;
use tessera_core::identity::PhoneNumber;
use tessera_core::identity::id_number::check_char;
use tessera_core::token::{BinControllerId, Par, TokenRef, issue_token_pan, token_expiry};
use tessera_server::AppState;
use tessera_store::{
    AttemptOutcome, AttemptRecord, BindingCompletion, CardStatus, CardToReserve, NewCard, NewToken,
    NewUser, SeedBatch, SeededCard, TokenStatus,
};

use crate::cmd::serve::{ServiceArgs, open, runtime};

/// The sign-in password of every seeded user.
pub const PASSWORD: &str = "seeded-user-1";

/// The phone number of seeded user `index`: 190 followed by 8 digits.
pub fn phone(index: u64) -> String {
    format!("190{index:08}")
}

/// Seeded users are numbered below this (8 digits after 190).
const MAX_USERS: u64 = 100_000_000;

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// Cards to bind.
    #[arg(long)]
    pub cards: u64,
    /// Users to create; the cards are shared out evenly [default: a third of the cards].
    #[arg(long)]
    pub users: Option<u64>,
    /// Cards per transaction.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Failed binding attempts to add to the first user of this run, one
    /// a minute up to now: a long history for `tessera bench --scenario
    /// timeline`.
    #[arg(long, default_value_t = 0)]
    pub history: u64,
    #[command(flatten)]
    pub service: ServiceArgs,
}

/// Debit BINs (19 digits) and credit BINs (16 digits, need an expiry and a
/// CVC) of large Chinese issuers, from the built-in tables.
const DEBIT_BINS: [&str; 7] = [
    "622848", "621700", "622202", "621226", "623668", "622260", "622700",
];
const CREDIT_BINS: [&str; 3] = ["622575", "625965", "628258"];
const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN_NAMES: [&str; 20] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明",
    "超", "秀英", "桂英", "建华",
];
const REGIONS: [&str; 5] = ["110105", "310115", "440305", "330106", "510107"];

pub fn run(args: SeedArgs) -> anyhow::Result<ExitCode> {
    if args.cards == 0 {
        bail!("--cards must be at least 1");
    }
    let users = args.users.unwrap_or(args.cards.div_ceil(3)).max(1);
    if users >= MAX_USERS {
        bail!("--users must be below {MAX_USERS}");
    }
    let batch_size = args.batch.clamp(1, 100_000);
    let config = args.service.load()?;
    runtime()?.block_on(async {
        let state = open(config).await?;
        // Seeded tokens are issued as a node would issue them.
        tessera_server::emv_generations::check_issuing_generation(
            &state.keys,
            state.config.payments.imk_generation,
        )?;
        let first = first_free_user(&state).await?;
        if first + users > MAX_USERS {
            bail!("the database already holds {first} seeded users: no room for {users} more");
        }
        let password_hash = tessera_server::passwords::hash_password(&state.keys, PASSWORD)
            .map_err(|e| anyhow::anyhow!("hashing the seed password: {}", e.code.as_str()))?;
        let plan = Plan {
            first,
            users,
            cards: args.cards,
            batch: batch_size,
        };
        let interactive = std::io::stderr().is_terminal();
        let started = Instant::now();
        let (mut done_cards, mut done_users, mut redrawn) = (0u64, 0u64, 0u64);
        let mut ranges = plan.ranges().into_iter();
        let prepare = |range: Option<(u64, u64)>| {
            let (state, hash) = (state.clone(), password_hash.clone());
            let plan = plan.clone();
            tokio::task::spawn_blocking(move || match range {
                Some((from, to)) => make_batch(&state, &plan, &hash, from, to, Utc::now()).map(Some),
                None => Ok(None),
            })
        };
        // The next batch is made on a blocking thread while this one is written.
        let mut next = prepare(ranges.next());
        while let Some(mut prepared) = next.await.context("a seed task stopped")?? {
            next = prepare(ranges.next());
            // After the previous batch's commit, so its tokens are seen.
            redrawn += unique_token_pans(&state, &mut prepared).await?;
            let batch = &prepared.batch;
            state.store.seed_batch(batch).await.with_context(|| {
                let phones = match (batch.users.first(), batch.users.last()) {
                    (Some(first), Some(last)) => format!("{} to {}", first.phone, last.phone),
                    _ => "none".to_owned(),
                };
                format!("writing the batch of users with phones {phones}")
            })?;
            done_cards += batch.cards.len() as u64;
            done_users += batch.users.len() as u64;
            if interactive {
                let rate = done_cards as f64 / started.elapsed().as_secs_f64().max(1e-3);
                let mut stderr = std::io::stderr().lock();
                let _ = write!(
                    stderr,
                    "\r\x1b[2Kseeding: {done_cards}/{} cards ({:.0}%), {done_users}/{users} users, {rate:.0} cards/s",
                    args.cards,
                    done_cards as f64 * 100.0 / args.cards as f64
                );
                let _ = stderr.flush();
            }
        }
        if interactive {
            eprint!("\r\x1b[2K");
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "seeded {done_cards} cards for {done_users} users in {seconds:.1} s ({:.0} cards/s)",
            done_cards as f64 / seconds.max(1e-3)
        );
        println!(
            "users sign in with phones {} to {} and the password {PASSWORD}",
            phone(first),
            phone(first + users - 1)
        );
        if redrawn > 0 {
            println!("{redrawn} token PANs were drawn again: a stored token already had them");
        }
        if args.history > 0 {
            let started = Instant::now();
            let user = state
                .store
                .user_by_phone(&phone(first))
                .await?
                .context("the first seeded user is gone")?;
            add_history(&state, &user.id, args.history, Utc::now()).await?;
            println!(
                "user {} ({}) has {} more binding attempts ({:.1} s)",
                phone(first),
                user.id,
                args.history,
                started.elapsed().as_secs_f64()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The first seed index whose phone is free: users are appended after
/// those of earlier runs (found by doubling, then bisecting).
async fn first_free_user(state: &AppState) -> anyhow::Result<u64> {
    let taken = |index: u64| {
        let store = state.store.clone();
        async move { Ok::<_, anyhow::Error>(store.user_by_phone(&phone(index)).await?.is_some()) }
    };
    if !taken(0).await? {
        return Ok(0);
    }
    let (mut low, mut high) = (0u64, 1u64);
    while high < MAX_USERS && taken(high).await? {
        low = high;
        high *= 2;
    }
    let mut high = high.min(MAX_USERS);
    // taken(low) and, unless at the end, !taken(high).
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if taken(mid).await? {
            low = mid;
        } else {
            high = mid;
        }
    }
    Ok(high)
}

/// Error codes a history's attempts failed with, in turn.
const HISTORY_CODES: [&str; 5] = [
    "card_declined",
    "invalid_number",
    "issuer_unavailable",
    "phone_mismatch",
    "card_not_supported",
];

/// `count` failed binding attempts of `user_id`, one a minute up to `now`,
/// written 64 at a time (the writer commits them in groups).
async fn add_history(
    state: &AppState,
    user_id: &tessera_store::UserId,
    count: u64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut writes = tokio::task::JoinSet::new();
    for n in 0..count {
        if writes.len() >= 64
            && let Some(written) = writes.join_next().await
        {
            written.context("a history write stopped")??;
        }
        let store = state.store.clone();
        let attempt = history_attempt(user_id, n, count, now);
        writes.spawn(async move { store.record_attempt(&attempt).await });
    }
    while let Some(written) = writes.join_next().await {
        written.context("a history write stopped")??;
    }
    Ok(())
}

/// The `n`-th of `count` history attempts: masked card data only.
fn history_attempt(
    user_id: &tessera_store::UserId,
    n: u64,
    count: u64,
    now: DateTime<Utc>,
) -> AttemptRecord {
    let code = HISTORY_CODES[(n % HISTORY_CODES.len() as u64) as usize];
    let last4 = format!("{:04}", n % 10_000);
    let minutes = i64::try_from(count - n).unwrap_or(i64::MAX);
    AttemptRecord {
        client_gone: false,
        trace_id: format!("req_HISTORY{n:013}"),
        user_id: user_id.clone(),
        masked_pan: Some(format!("622848*********{last4}")),
        first6: Some("622848".to_owned()),
        last4: Some(last4),
        brand: Some(Brand::UnionPay),
        issuer_code: Some("ABC".to_owned()),
        issuer_name: Some("中国农业银行".to_owned()),
        outcome: AttemptOutcome::Error,
        error_code: Some(code.to_owned()),
        cause: tessera_core::error::ErrorCode::parse(code).map(|c| c.cause().as_str().to_owned()),
        latency_ms: 120,
        created_at: now - chrono::Duration::minutes(minutes),
        ..AttemptRecord::default()
    }
}

/// Who gets how many cards, and which users go in which batch.
#[derive(Debug, Clone)]
struct Plan {
    first: u64,
    users: u64,
    cards: u64,
    batch: usize,
}

impl Plan {
    /// Cards of the `n`-th user of this run: an even share.
    fn cards_of(&self, n: u64) -> u64 {
        self.cards / self.users + u64::from(n < self.cards % self.users)
    }

    /// The first card number (in this run) of the `n`-th user.
    fn first_card_of(&self, n: u64) -> u64 {
        n * (self.cards / self.users) + n.min(self.cards % self.users)
    }

    /// Batches as ranges of users (this run's numbering), about `batch`
    /// cards or users each.
    fn ranges(&self) -> Vec<(u64, u64)> {
        let mut ranges = Vec::new();
        let (mut from, mut cards) = (0u64, 0u64);
        for n in 0..self.users {
            cards += self.cards_of(n);
            if cards >= self.batch as u64 || n + 1 - from >= self.batch as u64 {
                ranges.push((from, n + 1));
                from = n + 1;
                cards = 0;
            }
        }
        if from < self.users {
            ranges.push((from, self.users));
        }
        ranges
    }
}

/// A resident ID number with a valid date and check character.
fn id_number(n: u64) -> Option<String> {
    let region = REGIONS[(n % REGIONS.len() as u64) as usize];
    let year = 1960 + n % 40;
    let month = 1 + (n / 40) % 12;
    let day = 1 + (n / 480) % 28;
    let sequence = (n / 13_440) % 1000;
    let first17 = format!("{region}{year:04}{month:02}{day:02}{sequence:03}");
    check_char(&first17).map(|c| format!("{first17}{c}"))
}

fn real_name(n: u64) -> String {
    let surname = SURNAMES[(n % SURNAMES.len() as u64) as usize];
    let given = GIVEN_NAMES[((n / SURNAMES.len() as u64) % GIVEN_NAMES.len() as u64) as usize];
    format!("{surname}{given}")
}

/// Card `k` of this run: 9 in 10 are debit cards. The digits between the
/// BIN and the sandbox's approve digits come from `k`, so a run never
/// repeats a number.
fn card_number(k: u64) -> Option<(String, bool)> {
    let credit = k % 10 == 9;
    let (bin, length, serial) = if credit {
        let bin = CREDIT_BINS[((k / 10) % CREDIT_BINS.len() as u64) as usize];
        (bin, 16usize, k / 10 / CREDIT_BINS.len() as u64)
    } else {
        let bin = DEBIT_BINS[(k % DEBIT_BINS.len() as u64) as usize];
        (bin, 19usize, k / DEBIT_BINS.len() as u64)
    };
    let filler = length - bin.len() - 4;
    let serial = serial % 10u64.pow(u32::try_from(filler).ok()?);
    let payload = format!("{bin}{serial:0filler$}000");
    let check = luhn::check_digit(&payload)?;
    Some((format!("{payload}{}", char::from(b'0' + check)), credit))
}

/// A batch ready to write, and the card (PAN and brand) each of its tokens
/// was drawn for, in the order of `batch.cards`, to draw one again.
struct Prepared {
    batch: SeedBatch,
    drawn_for: Vec<(Pan, Brand)>,
}

fn make_batch(
    state: &AppState,
    plan: &Plan,
    password_hash: &str,
    from: u64,
    to: u64,
    now: DateTime<Utc>,
) -> anyhow::Result<Prepared> {
    let mut batch = SeedBatch::default();
    let mut drawn_for = Vec::new();
    let today = wallet_today(now, state.time_zone);
    for n in from..to {
        let index = plan.first + n;
        let id_number = id_number(index).context("an ID number")?;
        let name = real_name(index);
        let holder =
            HolderName::parse(&name).map_err(|e| anyhow::anyhow!("{}", e.code.as_str()))?;
        let user = NewUser {
            id: tessera_server::ids::user_id(),
            phone: phone(index),
            real_name: holder.as_str().to_owned(),
            real_name_normalized: holder.normalized().to_owned(),
            id_number_hash: state.keys.id_number_hash(&id_number).as_str().to_owned(),
            id_number_last4: id_number[id_number.len() - 4..].to_owned(),
            password_hash: password_hash.to_owned(),
            // Seeded people choose no payment password.
            birthday_pins: None,
            created_at: now,
        };
        let first_card = plan.first_card_of(n);
        for k in first_card..first_card + plan.cards_of(n) {
            // A run's numbers restart at the same serials; mixing in the
            // user index keeps a second run's cards new too.
            let (number, credit) = card_number(k + plan.first * 3).context("a card number")?;
            let fields = CardFields {
                number,
                expiry_month: credit.then(|| "12".to_owned()),
                expiry_year: credit.then(|| (today.year() + 3).to_string()),
                cvc: credit.then(|| "123".to_owned()),
                holder_name: Some(name.clone()),
            };
            let (card, pan, brand) =
                seeded_card(state, &user, &fields, k == first_card, today, now)?;
            batch.cards.push(card);
            drawn_for.push((pan, brand));
        }
        batch.users.push(user);
    }
    Ok(Prepared { batch, drawn_for })
}

/// Rounds of drawing again before giving up. A round redraws only the
/// clashing few, each of which clashes again as rarely as the range is full.
const DRAW_ROUNDS: usize = 16;

/// Draws again every token PAN of the batch that a stored token or an
/// earlier card of the batch has, until none does; returns how many were
/// drawn again. Asks the store once for the whole batch, then only about
/// the new draws.
async fn unique_token_pans(state: &AppState, prepared: &mut Prepared) -> anyhow::Result<u64> {
    let fingerprint = |card: &SeededCard| card.completion.token.token_pan_fingerprint.clone();
    let mut ask: Vec<String> = prepared.batch.cards.iter().map(fingerprint).collect();
    let mut stored = HashSet::new();
    let mut redrawn = 0u64;
    for _ in 0..DRAW_ROUNDS {
        if !ask.is_empty() {
            stored.extend(
                state
                    .store
                    .stored_token_fingerprints(&ask)
                    .await
                    .context("looking up stored token PANs")?,
            );
        }
        let fingerprints: Vec<&str> = prepared
            .batch
            .cards
            .iter()
            .map(|card| card.completion.token.token_pan_fingerprint.as_str())
            .collect();
        let again = clashing(&fingerprints, &stored);
        if again.is_empty() {
            return Ok(redrawn);
        }
        ask.clear();
        for index in again {
            let (card, (pan, brand)) = prepared
                .batch
                .cards
                .get_mut(index)
                .zip(prepared.drawn_for.get(index))
                .context("a card without its PAN")?;
            draw_token_pan(state, pan, brand, &mut card.completion.token)?;
            ask.push(fingerprint(card));
            redrawn += 1;
        }
    }
    bail!(
        "token PANs still clash with stored tokens after {DRAW_ROUNDS} draws: \
         the token BIN range is nearly full"
    )
}

/// The cards (indices) whose token PAN must be drawn again: one a stored
/// token has, or one an earlier card in `fingerprints` has.
fn clashing(fingerprints: &[&str], stored: &HashSet<String>) -> Vec<usize> {
    let mut seen = HashSet::with_capacity(fingerprints.len());
    fingerprints
        .iter()
        .enumerate()
        .filter(|&(_, &fingerprint)| !seen.insert(fingerprint) || stored.contains(fingerprint))
        .map(|(index, _)| index)
        .collect()
}

/// Draws a token PAN for the card `pan` from its brand's token range and
/// sets the fields of `token` that come from it, sealed under the token's
/// reference.
fn draw_token_pan(
    state: &AppState,
    pan: &Pan,
    brand: &Brand,
    token: &mut NewToken,
) -> anyhow::Result<()> {
    let token_pan = issue_token_pan(pan, brand, &state.config.token_bin_ranges, |p| {
        state.bins.is_issued_prefix(p)
    })?;
    let sealed = state.keys.seal_token_pan(&token.token_ref, &token_pan)?;
    token.key_version = sealed.key_version;
    token.token_pan_ciphertext = sealed.blob;
    token.token_first6 = token_pan.first6().to_owned();
    token.token_last4 = token_pan.last4().to_owned();
    token.token_pan_fingerprint = state.keys.token_fingerprint(&token_pan);
    Ok(())
}

/// One card, as `binding::bind_card` would leave it after an approval, with
/// the PAN and brand its token PAN was drawn for.
fn seeded_card(
    state: &AppState,
    user: &NewUser,
    fields: &CardFields,
    is_default: bool,
    today: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<(SeededCard, Pan, Brand)> {
    let code = |e: tessera_core::error::DomainError| anyhow::anyhow!("{}", e.code.as_str());
    let checked = check_fields(fields, &state.bins, today)
        .map_err(code)?
        .check_support(&state.config.policy)
        .map_err(code)?;
    let pan = &checked.pan;
    let bin = &checked.bin;
    let holder = checked
        .holder_name
        .as_ref()
        .context("the holder name is missing")?;
    let phone = PhoneNumber::parse(&user.phone).map_err(code)?;
    let card_id = tessera_server::ids::card_id();
    let bin_controller = BinControllerId::new(&state.config.par_bin_controller_id)
        .map_err(|e| anyhow::anyhow!("par_bin_controller_id: {e}"))?;
    let par = Par::derive(&state.keys, &bin_controller, pan);
    let sealed_pan = state.keys.seal(&card_id, pan)?;
    let token_ref = TokenRef::generate()?;
    let (card_month, card_year) = checked
        .expiry
        .map_or((12, 2099), |e| (u32::from(e.month()), i32::from(e.year())));
    let (token_month, token_year) = token_expiry(card_month, card_year, today);
    let at = now;
    let card = NewCard::new(
        card_id.clone(),
        user.id.clone(),
        CardToReserve {
            card: &checked,
            holder_name: holder,
            fingerprint: &state.keys.fingerprint(pan),
            par: &par,
            bank_phone: &phone,
        },
        at,
        at,
    );
    let mut completion = BindingCompletion {
        card_id: card_id.clone(),
        user_id: user.id.clone(),
        pan_key_version: sealed_pan.key_version,
        pan_ciphertext: sealed_pan.blob.clone(),
        token: NewToken {
            token_ref: token_ref.as_str().to_owned(),
            // Set by draw_token_pan below.
            key_version: 0,
            token_pan_ciphertext: Vec::new(),
            token_first6: String::new(),
            token_last4: String::new(),
            token_pan_fingerprint: String::new(),
            expiry_month: u8::try_from(token_month).unwrap_or(12),
            expiry_year: u16::try_from(token_year).unwrap_or(2099),
            status: TokenStatus::Active,
            requestor_id: state.config.token_requestor_id.clone(),
            device_id: None,
            psn: 0,
            imk_range: state
                .config
                .token_bin_ranges
                .for_brand(&bin.brand)
                .prefix()
                .to_owned(),
            imk_generation: state.config.payments.imk_generation,
        },
        status: CardStatus::Active,
        otp: None,
        now: at,
    };
    draw_token_pan(state, pan, &bin.brand, &mut completion.token)?;
    let attempt = AttemptRecord {
        client_gone: false,
        trace_id: tessera_server::ids::request_id(),
        user_id: user.id.clone(),
        card_id: Some(card_id),
        masked_pan: Some(pan.masked()),
        first6: Some(pan.first6().to_owned()),
        last4: Some(pan.last4().to_owned()),
        brand: card.brand.clone().into(),
        issuer_code: bin.issuer_code.clone(),
        issuer_name: card
            .issuer_name_zh
            .clone()
            .or_else(|| card.issuer_name_en.clone()),
        card_type: card.card_type,
        country: card.country.clone(),
        outcome: AttemptOutcome::Success,
        issuer_response: Some("seeded".to_owned()),
        created_at: at,
        ..AttemptRecord::default()
    };
    let seeded = SeededCard {
        card,
        completion,
        attempt,
        is_default,
    };
    Ok((seeded, pan.clone(), bin.brand.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_share_cards_evenly_in_batches() {
        let plan = Plan {
            first: 0,
            users: 4,
            cards: 10,
            batch: 5,
        };
        let shares: Vec<u64> = (0..4).map(|n| plan.cards_of(n)).collect();
        assert_eq!(shares, [3, 3, 2, 2]);
        let starts: Vec<u64> = (0..4).map(|n| plan.first_card_of(n)).collect();
        assert_eq!(starts, [0, 3, 6, 8]);
        assert_eq!(plan.ranges(), [(0, 2), (2, 4)]);
        let many_users = Plan {
            first: 0,
            users: 5,
            cards: 1,
            batch: 2,
        };
        assert_eq!(many_users.ranges(), [(0, 2), (2, 4), (4, 5)]);
    }

    #[test]
    fn clashes_are_stored_or_earlier_in_the_batch() {
        let stored: HashSet<String> = ["b".to_owned()].into();
        assert_eq!(
            clashing(&["a", "b", "c", "a", "c", "d"], &stored),
            [1, 3, 4]
        );
        assert!(clashing(&["a", "c"], &stored).is_empty());
    }

    /// Gives `to` the token PAN of `from` (its sealed blob is sealed under
    /// `from`'s reference: only a redraw can make it whole again).
    fn copy_token_pan(from: &SeededCard, to: &mut SeededCard) {
        let (from, to) = (&from.completion.token, &mut to.completion.token);
        to.key_version = from.key_version;
        to.token_pan_ciphertext = from.token_pan_ciphertext.clone();
        to.token_first6 = from.token_first6.clone();
        to.token_last4 = from.token_last4.clone();
        to.token_pan_fingerprint = from.token_pan_fingerprint.clone();
    }

    /// A token PAN drawn twice, as happens past a few hundred thousand
    /// cards, broke the unique index and stopped the seed; now it is drawn
    /// again before the batch is written. On a real SQLite file.
    #[test]
    fn token_pans_taken_are_drawn_again() {
        let dir = tempfile::tempdir().unwrap();
        let config = tessera_server::Config {
            data_dir: dir.path().join("data"),
            ..tessera_server::Config::default()
        };
        runtime().unwrap().block_on(async {
            let state = open(config).await.unwrap();
            let plan = Plan {
                first: 0,
                users: 4,
                cards: 12,
                batch: 100,
            };
            let now = Utc::now();
            let mut first = make_batch(&state, &plan, "hash", 0, 2, now).unwrap();
            assert_eq!(unique_token_pans(&state, &mut first).await.unwrap(), 0);
            state.store.seed_batch(&first.batch).await.unwrap();

            let mut second = make_batch(&state, &plan, "hash", 2, 4, now).unwrap();
            assert_eq!(second.batch.cards.len(), 6);
            // Card 0 gets a stored token's PAN, card 4 the PAN of card 2.
            copy_token_pan(&first.batch.cards[1], &mut second.batch.cards[0]);
            let earlier = second.batch.cards[2].clone();
            copy_token_pan(&earlier, &mut second.batch.cards[4]);
            let err = state.store.seed_batch(&second.batch).await.unwrap_err();
            assert!(
                matches!(err, tessera_store::StoreError::Conflict(_)),
                "{err}"
            );

            assert_eq!(unique_token_pans(&state, &mut second).await.unwrap(), 2);
            state.store.seed_batch(&second.batch).await.unwrap();

            let all: Vec<&SeededCard> = first
                .batch
                .cards
                .iter()
                .chain(&second.batch.cards)
                .collect();
            let fingerprints: Vec<String> = all
                .iter()
                .map(|card| card.completion.token.token_pan_fingerprint.clone())
                .collect();
            let stored = state
                .store
                .stored_token_fingerprints(&fingerprints)
                .await
                .unwrap();
            assert_eq!(stored.len(), 12, "12 tokens, 12 distinct token PANs");
            // A redrawn token opens, under its own reference, to the PAN its
            // fingerprint and last digits name.
            for card in &all {
                let token = &card.completion.token;
                let sealed = tessera_core::vault::Sealed {
                    key_version: token.key_version,
                    blob: token.token_pan_ciphertext.clone(),
                };
                let token_pan = state
                    .keys
                    .open_token_pan(&token.token_ref, &sealed)
                    .unwrap();
                assert_eq!(
                    state.keys.token_fingerprint(&token_pan),
                    token.token_pan_fingerprint
                );
                assert_eq!(token_pan.last4(), token.token_last4);
            }
        });
    }

    #[test]
    fn generated_fields_are_valid() {
        for n in [0u64, 1, 479, 13_440, 99_999_999] {
            let id = id_number(n).unwrap();
            assert!(tessera_core::identity::IdNumber::parse(&id).is_ok(), "{id}");
            assert!(PhoneNumber::parse(&phone(n)).is_ok());
            assert!(HolderName::parse(&real_name(n)).is_ok());
        }
        let numbers: std::collections::HashSet<String> =
            (0..10_000).map(|k| card_number(k).unwrap().0).collect();
        assert_eq!(numbers.len(), 10_000);
        for k in 0..20 {
            let (number, credit) = card_number(k).unwrap();
            assert!(luhn::is_valid(&number), "{number}");
            assert_eq!(number.len(), if credit { 16 } else { 19 });
        }
    }
}
