//! The support desk finds a person from what a caller can tell: the
//! phone, the user id, the ID number's last four with the real name, or a
//! card's first six with its last four. Each search reads one index: the
//! phone and the user id are keys of `users`; the ID number is kept only
//! as a keyed hash with its last four beside it, so the last four and the
//! real name's canonical form are searched together (as is the card's
//! first six and last four), never by opening what is sealed. The people
//! found are answered masked, and each search is audited.

use tessera_core::card::holder_name::HolderName;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::identity::PhoneNumber;
use tessera_core::ids::UserId;
use tessera_store::{UserRecord, UserSearch};

use crate::flows::{audit, consent};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, rfc3339};
use crate::http::extract::Ctx;
use crate::http::query;
use crate::http::views::{FoundCardView, FoundUserList, FoundUserView, UserSearchQuery};
use crate::state::AppState;

/// The most people one search answers with.
const MAX_FOUND: u32 = 20;

/// The ways of searching, each with the parameters it takes together.
const WAYS: [&[&str]; 4] = [
    &["phone"],
    &["user_id"],
    &["id_last4", "name"],
    &["card_first6", "card_last4"],
];

/// How a search was asked, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Asked {
    Phone(String),
    User(UserId),
    Indexed(UserSearch),
}

/// The ways of searching, as the messages list them.
const WAYS_TEXT: (&str, &str) = (
    "phone；user_id；id_last4 加 name；card_first6 加 card_last4",
    "phone; user_id; id_last4 with name; or card_first6 with card_last4",
);

/// The one way the query searches, checked; `invalid_request` naming the
/// parameter missing, the one combined with another way, or the one whose
/// value is not understood.
fn asked(query: &UserSearchQuery) -> Result<Asked, DomainError> {
    let given = |name: &str| -> Option<&str> {
        match name {
            "phone" => query.phone.as_deref(),
            "user_id" => query.user_id.as_deref(),
            "id_last4" => query.id_last4.as_deref(),
            "name" => query.name.as_deref(),
            "card_first6" => query.card_first6.as_deref(),
            "card_last4" => query.card_last4.as_deref(),
            _ => None,
        }
        .map(str::trim)
    };
    let touched: Vec<&[&str]> = WAYS
        .iter()
        .copied()
        .filter(|way| way.iter().any(|name| given(name).is_some()))
        .collect();
    let way = match touched.as_slice() {
        [] => {
            let (zh, en) = WAYS_TEXT;
            return Err(query::missing(
                "phone",
                (
                    &format!("请用其中一种方式查找：{zh}"),
                    &format!("search one way: {en}"),
                ),
            ));
        }
        [way] => *way,
        [_, second, ..] => {
            let (zh, en) = WAYS_TEXT;
            let param = second.iter().copied().find(|n| given(n).is_some());
            return Err(DomainError::new(ErrorCode::InvalidRequest)
                .with_param(param.unwrap_or(second[0]))
                .with_detail(
                    format!("一次只能用一种方式查找：{zh}"),
                    format!("Search one way at a time: {en}"),
                ));
        }
    };
    for (name, partner) in [
        ("id_last4", "name"),
        ("name", "id_last4"),
        ("card_first6", "card_last4"),
        ("card_last4", "card_first6"),
    ] {
        if way.contains(&name) && given(partner).is_none() {
            return Err(query::missing(
                partner,
                (
                    &format!("{name} 要和 {partner} 一起用"),
                    &format!("{name} goes with {partner}"),
                ),
            ));
        }
    }
    let digits = |name: &'static str, len: usize| -> Result<String, DomainError> {
        let text = given(name).unwrap_or("");
        if text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(text.to_owned())
        } else {
            Err(DomainError::new(ErrorCode::InvalidRequest)
                .with_param(name)
                .with_detail(
                    format!("{name} 的值无法识别：请用 {len} 位数字"),
                    format!("{name} was not understood: use {len} digits"),
                ))
        }
    };
    Ok(match way[0] {
        "phone" => {
            let phone = PhoneNumber::parse(given("phone").unwrap_or("")).map_err(|_| {
                DomainError::new(ErrorCode::InvalidRequest)
                    .with_param("phone")
                    .with_detail(
                        "phone 的值无法识别：请用 11 位手机号，例如 13800138000",
                        "phone was not understood: use an 11-digit mobile number such as 13800138000",
                    )
            })?;
            Asked::Phone(phone.expose().to_owned())
        }
        "user_id" => {
            let id = given("user_id").unwrap_or("");
            if !id.starts_with(UserId::PREFIX) || id.len() > 64 {
                return Err(DomainError::new(ErrorCode::InvalidRequest)
                    .with_param("user_id")
                    .with_detail(
                        format!("user_id 的值无法识别：用户编号以 {} 开头", UserId::PREFIX),
                        format!(
                            "user_id was not understood: user ids start with {}",
                            UserId::PREFIX
                        ),
                    ));
            }
            Asked::User(UserId::from(id.to_owned()))
        }
        "id_last4" => {
            let last4 = given("id_last4").unwrap_or("").to_ascii_uppercase();
            let well_formed = last4.len() == 4
                && last4.bytes().take(3).all(|b| b.is_ascii_digit())
                && last4
                    .bytes()
                    .last()
                    .is_some_and(|b| b.is_ascii_digit() || b == b'X');
            if !well_formed {
                return Err(DomainError::new(ErrorCode::InvalidRequest)
                    .with_param("id_last4")
                    .with_detail(
                        "id_last4 的值无法识别：请用身份证号的最后四位，例如 002X",
                        "id_last4 was not understood: use the ID number's last four characters, such as 002X",
                    ));
            }
            let name = HolderName::parse(given("name").unwrap_or("")).map_err(|_| {
                DomainError::new(ErrorCode::InvalidRequest)
                    .with_param("name")
                    .with_detail(
                        "name 的值无法识别：请用身份证上的姓名",
                        "name was not understood: use the name on the ID card",
                    )
            })?;
            Asked::Indexed(UserSearch::NameAndIdLast4 {
                name_normalized: name.normalized().to_owned(),
                id_last4: last4,
            })
        }
        _ => Asked::Indexed(UserSearch::Card {
            first6: digits("card_first6", 6)?,
            last4: digits("card_last4", 4)?,
        }),
    })
}

/// `GET /v1/support/users`: the people the search finds, masked, oldest
/// account first; each is audited as read.
pub async fn search(
    state: &AppState,
    caller: &Caller,
    ctx: &Ctx,
    query: &UserSearchQuery,
) -> Result<FoundUserList, ApiError> {
    let found: Vec<UserRecord> = match asked(query)? {
        Asked::Phone(phone) => state
            .store
            .user_by_phone(&phone)
            .await?
            .into_iter()
            .collect(),
        Asked::User(id) => state.store.user_by_id(&id).await?.into_iter().collect(),
        Asked::Indexed(search) => state.store.find_users(&search, MAX_FOUND).await?,
    };
    if found.is_empty() {
        audit::record_read(state, caller, audit::USERS_SEARCH, None, &ctx.trace_id).await?;
    }
    let mut data = Vec::with_capacity(found.len());
    for user in &found {
        audit::record_read(
            state,
            caller,
            audit::USERS_SEARCH,
            Some(&user.id),
            &ctx.trace_id,
        )
        .await?;
        data.push(view(state, user, ctx).await?);
    }
    Ok(FoundUserList { data })
}

/// A person as support may see them: masked.
async fn view(state: &AppState, user: &UserRecord, ctx: &Ctx) -> Result<FoundUserView, ApiError> {
    let account = consent::account(state, &user.id, false, ctx.now).await?;
    let cards = state.store.list_cards(&user.id).await?;
    let live_cards = cards.iter().filter(|c| c.status.is_live()).count();
    Ok(FoundUserView {
        user_id: user.id.to_string(),
        phone: masked_phone(&user.phone),
        name: HolderName::parse(&user.real_name)
            .map(|name| name.masked())
            .unwrap_or_else(|_| "*".to_owned()),
        id_number: format!("{}{}", "*".repeat(14), user.id_number_last4),
        created_at: rfc3339(user.created_at),
        frozen: account.frozen_at.is_some(),
        live_cards: u32::try_from(live_cards).unwrap_or(u32::MAX),
        cards: cards
            .iter()
            .map(|card| FoundCardView {
                id: card.id.to_string(),
                issuer_code: card.issuer_code.clone(),
                issuer_name_zh: card.issuer_name_zh.clone(),
                issuer_name_en: card.issuer_name_en.clone(),
                brand: card.brand.code().to_owned(),
                card_type: card.card_type.map(|t| t.code().to_owned()),
                first6: card.first6.clone(),
                last4: card.last4.clone(),
                status: card.status.as_str().to_owned(),
            })
            .collect(),
    })
}

/// `137****7007`; a phone stored before phones were checked keeps its
/// last four only.
fn masked_phone(phone: &str) -> String {
    match PhoneNumber::parse(phone) {
        Ok(phone) => phone.masked(),
        Err(_) => {
            let chars: Vec<char> = phone.chars().collect();
            let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
            format!("****{tail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(query: UserSearchQuery) -> Option<String> {
        asked(&query)
            .err()
            .and_then(|e| e.param.map(|p| p.to_string()))
    }

    #[test]
    fn one_way_of_searching_and_each_missing_part_is_named() {
        assert_eq!(param(UserSearchQuery::default()).as_deref(), Some("phone"));
        let both = UserSearchQuery {
            phone: Some("13700137007".to_owned()),
            card_last4: Some("1234".to_owned()),
            ..UserSearchQuery::default()
        };
        assert_eq!(param(both).as_deref(), Some("card_last4"));
        let half = UserSearchQuery {
            id_last4: Some("002x".to_owned()),
            ..UserSearchQuery::default()
        };
        assert_eq!(param(half).as_deref(), Some("name"));
        let whole = UserSearchQuery {
            id_last4: Some("002x".to_owned()),
            name: Some(" 张三 ".to_owned()),
            ..UserSearchQuery::default()
        };
        assert_eq!(
            asked(&whole).unwrap(),
            Asked::Indexed(UserSearch::NameAndIdLast4 {
                name_normalized: "张三".to_owned(),
                id_last4: "002X".to_owned(),
            })
        );
        assert_eq!(masked_phone("13700137007"), "137****7007");
    }
}
