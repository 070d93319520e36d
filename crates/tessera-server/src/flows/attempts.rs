//! Binding attempts as they are read back: a person's own, explained in
//! their words, and every attempt, a page at a time, for support.

use chrono::{DateTime, Duration, Utc};
use tessera_core::card::AttemptOutcome;
use tessera_core::diagnosis::{Audience, Bilingual};
use tessera_core::error::Lang;
use tessera_store::AttemptFilter;

use crate::flows::diagnose;
use crate::http::error::{ApiError, rfc3339};
use crate::http::query;
use crate::http::views::{
    AttemptCardView, AttemptList, AttemptQuery, AttemptView, MyAttemptList, MyAttemptView,
    MyAttemptsQuery, MySummaryView,
};
use crate::state::AppState;
use tessera_core::ids::UserId;

/// A person's recent attempts (failed ones unless `all`), each explained,
/// newest first, and the whole told as one story.
pub async fn mine(
    state: &AppState,
    user_id: &UserId,
    query: &MyAttemptsQuery,
    now: DateTime<Utc>,
    lang: Lang,
) -> Result<MyAttemptList, ApiError> {
    let since = query::since_or(query.since.as_deref(), now, Duration::days(7))?;
    let case = diagnose::case_of_user(state, user_id, since, now, 50).await?;
    let (diagnosis, _) = diagnose::diagnose_case(state, &case, Audience::Person, now).await?;
    let all = query.all.unwrap_or(false);
    let text = |t: &Bilingual| {
        let said = t.get(lang);
        (!said.is_empty()).then(|| said.to_owned())
    };
    let mut data: Vec<MyAttemptView> = case
        .attempts
        .iter()
        .zip(&diagnosis.attempts)
        .filter(|(record, _)| all || record.outcome == AttemptOutcome::Error)
        .map(|(record, explained)| MyAttemptView {
            trace_id: record.trace_id.clone(),
            created_at: rfc3339(record.created_at),
            outcome: record.outcome.as_str().to_owned(),
            code: record.error_code.clone(),
            card: AttemptCardView {
                masked_pan: record.masked_pan.clone(),
                brand: record.brand.as_ref().map(|b| b.code().to_owned()),
                issuer_name: record.issuer_name.clone(),
                card_type: record.card_type.map(|t| t.code().to_owned()),
            },
            happened: explained.happened.get(lang).to_owned(),
            message: text(&explained.message),
            remedy: text(&explained.remedy),
            help_url: record
                .error_code
                .as_ref()
                .map(|code| format!("/help/errors/{code}")),
        })
        .collect();
    data.reverse();
    Ok(MyAttemptList {
        data,
        summary: MySummaryView {
            verdict: diagnosis.verdict.as_str().to_owned(),
            title: diagnosis.verdict.title().get(lang).to_owned(),
            headline: diagnosis.headline.get(lang).to_owned(),
            story: diagnosis.story.get(lang).to_owned(),
            next_step: diagnosis.next_step_person.get(lang).to_owned(),
        },
        next_cursor: None,
    })
}

/// Attempts by user, trace id or time, newest first, a page at a time (at
/// most 200; 50 by default).
pub async fn page(
    state: &AppState,
    query: &AttemptQuery,
    now: DateTime<Utc>,
) -> Result<AttemptList, ApiError> {
    let since = query::since(query.since.as_deref(), now)?;
    let before = query::cursor(query.cursor.as_deref())?;
    let limit = query::page_limit(query.limit, 50, 200)?;
    let attempts = state
        .store
        .attempts(&AttemptFilter {
            user_id: query.user_id.clone().map(Into::into),
            trace_id: query.trace_id.clone(),
            client_request_id: query.client_request_id.clone(),
            since,
            before,
            limit,
        })
        .await?;
    Ok(AttemptList {
        next_cursor: query::next_cursor(&attempts, limit, |a| (a.created_at, &a.trace_id)),
        data: attempts.iter().map(AttemptView::from_record).collect(),
    })
}
