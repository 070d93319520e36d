//! Diagnosis over HTTP: stored attempts become the core's facts (issuer
//! names in both languages, the device the app reported), the service adds
//! what it knows (open incidents, when maintenance or a breaker ends), and
//! the core's verdict and story come back shaped for support or the person.

use chrono::{DateTime, Duration, Utc};
use tessera_core::card::AttemptOutcome;
use tessera_core::diagnosis::{
    self, AttemptFacts, Audience, CardFacts, Circumstances, DeviceFacts, Diagnosis, Ending, Step,
};
use tessera_core::error::{DomainError, ErrorCode, Lang};
use tessera_core::issuer_health::AnomalyKind;
use tessera_store::{AttemptFilter, AttemptRecord, IncidentFilter, IncidentRecord};

use crate::flows::audit::{self, Reader};
use crate::flows::diagnose_payments;
use crate::flows::issuer_health::issuer_names;
use crate::flows::maintenance;
use crate::http::error::ApiError;
use crate::http::query;
use crate::http::views::{
    AttemptView, BilingualView, Device, DiagnoseQuery, DiagnosisTexts, DiagnosisView, EvidenceView,
    IncidentView, NextStepView, PaymentEvidenceView, TextsView, VerdictView,
};
use crate::state::AppState;
use tessera_core::ids::{PaymentId, UserId};

/// How far back a trace's story starts.
pub const STORY_HOURS: i64 = 24;
/// Attempts read for one diagnosis at most.
pub const MAX_ATTEMPTS: u32 = 100;

/// The core's facts for one stored attempt.
pub fn facts(state: &AppState, record: &AttemptRecord) -> AttemptFacts {
    let step = if tessera_core::diagnosis::is_otp_check(record.issuer_response.as_deref())
        || record.outcome == AttemptOutcome::Verified
    {
        Step::Verify
    } else {
        Step::Bind
    };
    let ending = match record.outcome {
        AttemptOutcome::Success => Ending::Bound,
        AttemptOutcome::PendingVerification => Ending::SmsSent,
        AttemptOutcome::Verified => Ending::Verified,
        AttemptOutcome::Error => Ending::Failed(
            record
                .error_code
                .as_deref()
                .and_then(ErrorCode::parse)
                .unwrap_or(ErrorCode::InternalError),
        ),
    };
    let (issuer_name_zh, issuer_name_en) = match &record.issuer_code {
        Some(code) => {
            let names = issuer_names(code, record.issuer_name.as_deref());
            // The BIN tables know more English names than the big banks.
            let en = record
                .first6
                .as_deref()
                .and_then(|first6| state.bins.lookup(first6))
                .filter(|bin| bin.issuer_code.as_deref() == Some(code.as_str()))
                .and_then(|bin| bin.issuer_name_en.clone())
                .unwrap_or(names.en);
            (Some(names.zh), Some(en))
        }
        None => (record.issuer_name.clone(), record.issuer_name.clone()),
    };
    let device: Device = record
        .device
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    AttemptFacts {
        trace_id: record.trace_id.clone(),
        at_ms: record.created_at.timestamp_millis(),
        step,
        ending,
        param: record.error_param.clone(),
        reason: record.error_reason.clone(),
        issuer_response: record.issuer_response.clone(),
        latency_ms: record.latency_ms,
        card: CardFacts {
            masked_pan: record.masked_pan.clone(),
            last4: record.last4.clone(),
            brand: record.brand.clone(),
            issuer_code: record.issuer_code.clone(),
            issuer_name_zh,
            issuer_name_en,
            card_type: record.card_type,
            country: record.country.clone(),
        },
        device: DeviceFacts {
            model: device.model,
            os: device.os,
            app_version: device.app_version,
            network_type: device.network_type,
            locale: device.locale,
        },
    }
}

/// The attempts a diagnosis reads, oldest first.
#[derive(Debug)]
pub struct Case {
    pub user_id: Option<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub focus: Option<String>,
    pub attempts: Vec<AttemptRecord>,
}

/// One trace and the same person's attempts in the day before it.
pub async fn case_of_trace(
    state: &AppState,
    trace_id: &str,
    only_user: Option<&str>,
) -> Result<Option<Case>, ApiError> {
    let found = state
        .store
        .attempts(&AttemptFilter {
            trace_id: Some(trace_id.to_owned()),
            limit: 1,
            ..AttemptFilter::default()
        })
        .await?;
    let Some(focus) = found.into_iter().next() else {
        return Ok(None);
    };
    if only_user.is_some_and(|user| focus.user_id != user) {
        return Ok(None);
    }
    let until = focus.created_at;
    let since = until - Duration::hours(STORY_HOURS);
    let mut attempts = state
        .store
        .attempts(&AttemptFilter {
            user_id: Some(focus.user_id.clone()),
            since: Some(since),
            before: Some((focus.created_at, focus.trace_id.clone())),
            limit: MAX_ATTEMPTS - 1,
            ..AttemptFilter::default()
        })
        .await?;
    attempts.reverse();
    // What the person did next with the same card: a failure a retry fixed
    // is told as solved.
    let mut later = state
        .store
        .attempts(&AttemptFilter {
            user_id: Some(focus.user_id.clone()),
            since: Some(focus.created_at),
            before: Some((until + Duration::hours(STORY_HOURS), String::new())),
            limit: MAX_ATTEMPTS,
            ..AttemptFilter::default()
        })
        .await?;
    later.retain(|a| {
        (a.created_at, a.trace_id.as_str()) > (focus.created_at, focus.trace_id.as_str())
    });
    later.reverse();
    let user_id = Some(focus.user_id.clone());
    let until = later.last().map_or(until, |a| a.created_at);
    attempts.push(focus);
    attempts.extend(later);
    Ok(Some(Case {
        user_id: user_id.map(Into::into),
        since,
        until,
        focus: Some(trace_id.to_owned()),
        attempts,
    }))
}

/// Everything a person tried since `since`.
pub async fn case_of_user(
    state: &AppState,
    user_id: &UserId,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Case, ApiError> {
    let mut attempts = state
        .store
        .attempts(&AttemptFilter {
            user_id: Some(user_id.to_owned()),
            since: Some(since),
            limit,
            ..AttemptFilter::default()
        })
        .await?;
    attempts.reverse();
    Ok(Case {
        user_id: Some(user_id.to_owned().into()),
        since,
        until: now,
        focus: None,
        attempts,
    })
}

/// Open incidents, and when binding can be tried again for the decisive
/// attempt (the end of maintenance, the breaker's next probe).
pub async fn circumstances(
    state: &AppState,
    case: &Case,
    now: DateTime<Utc>,
) -> Result<(Circumstances, Vec<IncidentRecord>), ApiError> {
    let open = state
        .store
        .incidents(&IncidentFilter {
            open_only: true,
            limit: 200,
            ..IncidentFilter::default()
        })
        .await?;
    let focus = match &case.focus {
        Some(trace) => case.attempts.iter().find(|a| &a.trace_id == trace),
        None => case.attempts.last(),
    };
    let mut retry_at_local = None;
    if let Some(focus) = focus {
        match focus.error_code.as_deref() {
            Some("maintenance") => {
                if let Some((until, _)) = maintenance::current(state, now).await? {
                    retry_at_local = Some(
                        until
                            .with_timezone(&state.time_zone)
                            .format("%H:%M")
                            .to_string(),
                    );
                }
            }
            Some("issuer_unavailable") => {
                let retry = focus.issuer_code.as_deref().and_then(|code| {
                    open.iter()
                        .find(|i| i.issuer_code == code && i.breaker_open)
                        .and_then(|i| i.retry_at)
                });
                if let Some(retry) = retry.filter(|at| *at > now) {
                    retry_at_local = Some(
                        retry
                            .with_timezone(&state.time_zone)
                            .format("%H:%M:%S")
                            .to_string(),
                    );
                }
            }
            _ => {}
        }
    }
    let involved: Vec<&str> = case
        .attempts
        .iter()
        .filter_map(|a| a.issuer_code.as_deref())
        .collect();
    let relevant: Vec<IncidentRecord> = open
        .into_iter()
        .filter(|i| involved.contains(&i.issuer_code.as_str()))
        .collect();
    Ok((
        Circumstances {
            // A slow bank is not a failing one: only failure-rate incidents
            // make a failure "not this person's".
            issuers_in_incident: relevant
                .iter()
                .filter(|i| i.kind == AnomalyKind::FailureRate.as_str())
                .map(|i| i.issuer_code.clone())
                .collect(),
            retry_at_local,
            max_story_runs: None,
        },
        relevant,
    ))
}

/// Runs the core over a case.
pub async fn diagnose_case(
    state: &AppState,
    case: &Case,
    audience: Audience,
    now: DateTime<Utc>,
) -> Result<(Diagnosis, Vec<IncidentRecord>), ApiError> {
    let facts: Vec<AttemptFacts> = case.attempts.iter().map(|a| facts(state, a)).collect();
    let (circumstances, incidents) = circumstances(state, case, now).await?;
    let diagnosis = diagnosis::diagnose(&facts, case.focus.as_deref(), audience, &circumstances);
    Ok((diagnosis, incidents))
}

/// A query value, trimmed, when one was given.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Support's diagnosis of one trace (told with the same person's day before
/// it) or of everything one person tried since `since` (24 hours by
/// default). The read of the person's data is audited.
pub async fn for_support(
    state: &AppState,
    reader: Reader<'_>,
    query: &DiagnoseQuery,
    now: DateTime<Utc>,
    lang: Lang,
) -> Result<DiagnosisView, ApiError> {
    let view = diagnosis_of(state, query, now, lang).await?;
    let user_id = view.user_id.clone().map(UserId::from);
    reader
        .record(state, audit::DIAGNOSIS, user_id.as_ref())
        .await?;
    Ok(view)
}

async fn diagnosis_of(
    state: &AppState,
    query: &DiagnoseQuery,
    now: DateTime<Utc>,
    lang: Lang,
) -> Result<DiagnosisView, ApiError> {
    if let Some(payment_id) = given(query.payment_id.as_deref()) {
        let payment = state
            .store
            .payment(&PaymentId::from(payment_id.to_owned()))
            .await?
            .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("payment_id"))?;
        return diagnose_payments::for_payment(state, payment, lang, now).await;
    }
    let case = match (
        given(query.trace_id.as_deref()),
        given(query.user_id.as_deref()),
    ) {
        (Some(trace), only_user) => match case_of_trace(state, trace, only_user).await? {
            Some(case) => case,
            None => {
                // Not a binding's trace: a payment's, if one was answered
                // with it.
                let payment = state
                    .store
                    .payment_by_trace(trace)
                    .await?
                    .filter(|p| only_user.is_none_or(|user| p.user_id.as_str() == user))
                    .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("trace_id"))?;
                return diagnose_payments::for_payment(state, payment, lang, now).await;
            }
        },
        (None, Some(user)) => {
            let since = query::since_or(query.since.as_deref(), now, Duration::hours(STORY_HOURS))?;
            let user_id = UserId::from(user.to_owned());
            // An unknown person is not one without attempts.
            if state.store.user_by_id(&user_id).await?.is_none() {
                return Err(DomainError::new(ErrorCode::NotFound)
                    .with_param("user_id")
                    .into());
            }
            case_of_user(state, &user_id, since, now, MAX_ATTEMPTS).await?
        }
        _ => {
            return Err(query::missing(
                "trace_id",
                ("请给出 trace_id 或 user_id", "give a trace_id or a user_id"),
            )
            .into());
        }
    };
    let (diagnosis, incidents) = diagnose_case(state, &case, Audience::Support, now).await?;
    Ok(support_view(&case, &diagnosis, &incidents, lang, now))
}

/// The support view of a diagnosis: the verdict, the story and the next
/// steps in the caller's language and in both, and the evidence.
pub fn support_view(
    case: &Case,
    diagnosis: &Diagnosis,
    incidents: &[IncidentRecord],
    lang: Lang,
    now: DateTime<Utc>,
) -> DiagnosisView {
    let attempts = case
        .attempts
        .iter()
        .zip(&diagnosis.attempts)
        .map(|(record, explained)| EvidenceView {
            attempt: AttemptView::from_record(record),
            help_url: record
                .error_code
                .as_ref()
                .map(|code| format!("/help/errors/{code}")),
            happened: BilingualView::from(&explained.happened),
            message: BilingualView::from(&explained.message),
            remedy: BilingualView::from(&explained.remedy),
        })
        .collect();
    let incidents = incidents
        .iter()
        .map(|i| IncidentView::from_record(i, lang, now))
        .collect();
    diagnosis_view(
        case.user_id.clone(),
        (case.since, case.until),
        diagnosis,
        lang,
        (attempts, Vec::new()),
        incidents,
    )
}

/// A diagnosis as support reads it, of attempts or of payments: the
/// verdict, the story and the next steps in the caller's language and in
/// both, with its evidence.
pub(super) fn diagnosis_view(
    user_id: Option<String>,
    (since, until): (DateTime<Utc>, DateTime<Utc>),
    diagnosis: &Diagnosis,
    lang: Lang,
    (attempts, payments): (Vec<EvidenceView>, Vec<PaymentEvidenceView>),
    incidents: Vec<IncidentView>,
) -> DiagnosisView {
    let texts = |lang: Lang| TextsView {
        title: diagnosis.verdict.title().get(lang).to_owned(),
        headline: diagnosis.headline.get(lang).to_owned(),
        story: diagnosis.story.get(lang).to_owned(),
        device: diagnosis.device.get(lang).to_owned(),
        next_step_person: diagnosis.next_step_person.get(lang).to_owned(),
        next_step_support: diagnosis.next_step_support.get(lang).to_owned(),
    };
    DiagnosisView {
        user_id,
        since: crate::http::error::rfc3339(since),
        until: crate::http::error::rfc3339(until),
        verdict: VerdictView {
            kind: diagnosis.verdict.as_str().to_owned(),
            cause: diagnosis.verdict.cause().map(|c| c.as_str().to_owned()),
            code: diagnosis.code.map(|c| c.as_str().to_owned()),
            trace_id: diagnosis.trace_id.clone(),
            payment_id: diagnosis.payment_id.clone(),
            resolved_by: diagnosis.resolved_by.clone(),
            title: diagnosis.verdict.title().get(lang).to_owned(),
        },
        headline: diagnosis.headline.get(lang).to_owned(),
        story: diagnosis.story.get(lang).to_owned(),
        device: diagnosis.device.get(lang).to_owned(),
        next_step: NextStepView {
            person: diagnosis.next_step_person.get(lang).to_owned(),
            support: diagnosis.next_step_support.get(lang).to_owned(),
        },
        texts: DiagnosisTexts {
            zh: texts(Lang::ZhCn),
            en: texts(Lang::En),
        },
        attempts,
        payments,
        incidents,
    }
}
