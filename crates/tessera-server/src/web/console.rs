//! The support console's pages: sign-in, finding a person, their masked
//! profile and timeline, the diagnosis of an attempt or a payment, and
//! tickets. Each page calls the flow its JSON route calls (the same rules,
//! the same audit of reads), never the API over HTTP.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tessera_core::error::{Lang, Text};
use tessera_core::ids::UserId;
use tessera_store::TimelineType;

use crate::flows::audit::Reader;
use crate::flows::{diagnose, support_users, ticket_replies, tickets, timeline};
use crate::http::error::{ApiError, status_of};
use crate::http::extract::Ctx;
use crate::http::fields::Fields;
use crate::http::views::{
    DiagnoseQuery, DiagnosisView, FoundUserView, SupportReplyRequest, SupportTicketConversation,
    SupportTicketList, TicketQuery, TimelineEntryView, TimelineList, UserSearchQuery,
    UserTimelineQuery,
};
use crate::state::AppState;
use crate::web::session::{self, Console};
use crate::web::{Chrome, PageLang, page, words as w};

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    chrome: Chrome,
    heading: &'static str,
    message: String,
}

/// A page that only says something: a refusal, a failure.
pub fn message(status: StatusCode, chrome: Chrome, heading: Text, message: String) -> Response {
    let lang = chrome.lang;
    let heading = heading.get(lang);
    page(
        status,
        lang,
        &MessagePage {
            chrome,
            heading,
            message,
        },
        false,
    )
}

/// A flow's refusal as a page, with the catalogue's message and the
/// error's status.
pub fn failure(chrome: Chrome, error: &ApiError) -> Response {
    let lang = chrome.lang;
    message(
        status_of(&error.0),
        chrome,
        w::SOMETHING_WRONG,
        format!("{} {}", error.0.message(lang), error.0.remedy(lang)),
    )
}

/// `path?name=value&...`, each value encoded.
fn query_url(path: &str, pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{path}?{query}")
}

/// A query or form value, trimmed; None when left empty.
fn given(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

fn reader<'a>(console: &'a Console, ctx: &'a Ctx) -> Reader<'a> {
    Reader {
        caller: &console.caller,
        trace_id: &ctx.trace_id,
    }
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    refused: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HomeQuery {
    ended: String,
    signed_out: String,
}

/// `GET /support`: the search page when signed in, else the sign-in form.
pub async fn home(
    State(state): State<AppState>,
    PageLang { lang, remember }: PageLang,
    headers: HeaderMap,
    Query(query): Query<HomeQuery>,
) -> Response {
    match session::current(&state, &headers, state.now()).await {
        Ok(Some(console)) => search_page(
            StatusCode::OK,
            &console,
            lang,
            remember,
            PeopleForm::default(),
            None,
            None,
        ),
        Ok(None) => {
            let notice = if !query.ended.is_empty() {
                Some(w::SESSION_ENDED.get(lang))
            } else if !query.signed_out.is_empty() {
                Some(w::SIGNED_OUT.get(lang))
            } else {
                None
            };
            let chrome = Chrome::new(lang, w::SIGN_IN.get(lang), "/support");
            page(
                StatusCode::OK,
                lang,
                &SignInPage {
                    chrome,
                    notice,
                    refused: false,
                },
                remember,
            )
        }
        Err(error) => failure(Chrome::new(lang, w::CONSOLE.get(lang), "/support"), &error),
    }
}

#[derive(Deserialize)]
pub struct SignInForm {
    key: String,
}

impl std::fmt::Debug for SignInForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInForm { key: <hidden> }")
    }
}

/// `POST /support/sign-in`: the key, checked as the API checks it; a
/// session for a live support or operator key, the form again otherwise.
pub async fn sign_in(
    State(state): State<AppState>,
    ctx: Ctx,
    PageLang { lang, .. }: PageLang,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if !session::from_this_site(&headers) {
        return session::refused(lang, None);
    }
    match session::sign_in(&state, &form.key, &ctx.trace_id, ctx.now).await {
        Ok(Some(cookie)) => {
            let mut response = Redirect::to("/support").into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Ok(None) => page(
            StatusCode::UNAUTHORIZED,
            lang,
            &SignInPage {
                chrome: Chrome::new(lang, w::SIGN_IN.get(lang), "/support"),
                notice: None,
                refused: true,
            },
            false,
        ),
        Err(error) => failure(Chrome::new(lang, w::SIGN_IN.get(lang), "/support"), &error),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /support/sign-out`: the session ends here and in the store.
pub async fn sign_out(
    State(state): State<AppState>,
    console: Console,
    PageLang { lang, .. }: PageLang,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !console.csrf_matches(&form.csrf) {
        return session::refused(lang, Some(&console));
    }
    if let Err(error) = console.end(&state).await {
        return failure(
            console.chrome(lang, w::SIGN_OUT.get(lang), "/support"),
            &error,
        );
    }
    let mut response = Redirect::to("/support?signed_out=1").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::cookie(&state, "", true));
    response
}

/// The ways to find a person, as the search form sends them (empty fields
/// are not given).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PeopleForm {
    phone: String,
    user_id: String,
    trace_id: String,
    name: String,
    id_last4: String,
    card_first6: String,
    card_last4: String,
}

#[derive(Template)]
#[template(path = "console/search.html")]
struct SearchPage {
    chrome: Chrome,
    form: PeopleForm,
    found: Option<Vec<FoundUserView>>,
    problem: Option<String>,
}

fn search_page(
    status: StatusCode,
    console: &Console,
    lang: Lang,
    remember: bool,
    form: PeopleForm,
    found: Option<Vec<FoundUserView>>,
    problem: Option<String>,
) -> Response {
    let chrome = console.chrome(lang, w::FIND_PERSON.get(lang), "/support");
    page(
        status,
        lang,
        &SearchPage {
            chrome,
            form,
            found,
            problem,
        },
        remember,
    )
}

/// `GET /support/people`: the people a search finds, masked, each search
/// audited by the flow; a trace id goes straight to its diagnosis.
pub async fn people(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, remember }: PageLang,
    Query(form): Query<PeopleForm>,
) -> Response {
    if let Some(trace_id) = given(&form.trace_id) {
        let to: String = query_url("/support/diagnosis", &[("trace_id", &trace_id)]);
        return Redirect::to(&to).into_response();
    }
    let query = UserSearchQuery {
        phone: given(&form.phone),
        user_id: given(&form.user_id),
        name: given(&form.name),
        id_last4: given(&form.id_last4),
        card_first6: given(&form.card_first6),
        card_last4: given(&form.card_last4),
    };
    match support_users::search(&state, &console.caller, &ctx, &query).await {
        Ok(found) => search_page(
            StatusCode::OK,
            &console,
            lang,
            remember,
            form,
            Some(found.data),
            None,
        ),
        Err(error) => {
            let problem = format!("{} {}", error.0.message(lang), error.0.remedy(lang));
            search_page(
                status_of(&error.0),
                &console,
                lang,
                remember,
                form,
                None,
                Some(problem),
            )
        }
    }
}

#[derive(Template)]
#[template(path = "console/person.html")]
struct PersonPage {
    chrome: Chrome,
    person: FoundUserView,
    timeline: TimelineList,
    older_href: Option<String>,
    paged: bool,
    /// The filters asked for, shown again in their form.
    kind: String,
    since: String,
}

impl PersonPage {
    /// Every entry type the timeline filters by.
    fn kinds(&self) -> impl Iterator<Item = &'static str> {
        TimelineType::ALL.into_iter().map(TimelineType::as_str)
    }

    /// The full diagnosis of a timeline entry with a verdict: its payment,
    /// else its binding attempt.
    fn diagnosis_href(&self, entry: &TimelineEntryView) -> Option<String> {
        let (name, value) = match (&entry.payment_id, &entry.trace_id) {
            (Some(payment_id), _) => ("payment_id", payment_id),
            (None, Some(trace_id)) => ("trace_id", trace_id),
            (None, None) => return None,
        };
        Some(query_url("/support/diagnosis", &[(name, value)]))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TimelineForm {
    cursor: String,
    /// One entry type only (`UserTimelineQuery::kind`).
    #[serde(rename = "type")]
    kind: String,
    since: String,
}

/// `GET /support/people/{id}`: the masked profile and a page of the
/// timeline, newest first, each failure with its verdict.
pub async fn person(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, remember }: PageLang,
    Path(id): Path<String>,
    Query(form): Query<TimelineForm>,
) -> Response {
    let path = format!("/support/people/{id}");
    let chrome = console.chrome(lang, &format!("{} {id}", w::PEOPLE.get(lang)), &path);
    let user_id = UserId::from(id.clone());
    let query = UserSearchQuery {
        user_id: Some(id.clone()),
        ..UserSearchQuery::default()
    };
    let found = match support_users::search(&state, &console.caller, &ctx, &query).await {
        Ok(found) => found,
        Err(error) => return failure(chrome, &error),
    };
    let Some(person) = found.data.into_iter().next() else {
        return message(
            StatusCode::NOT_FOUND,
            chrome,
            w::PEOPLE,
            w::NOBODY_FOUND.get(lang).to_owned(),
        );
    };
    let asked = UserTimelineQuery {
        kind: given(&form.kind),
        since: given(&form.since),
        limit: None,
        cursor: given(&form.cursor),
    };
    let timeline =
        match timeline::page(&state, reader(&console, &ctx), &user_id, &asked, ctx.now).await {
            Ok(timeline) => timeline,
            Err(error) => return failure(chrome, &error),
        };
    let older_href = timeline.next_cursor.as_ref().map(|cursor| {
        query_url(
            &path,
            &[
                ("type", form.kind.trim()),
                ("since", form.since.trim()),
                ("cursor", cursor),
            ],
        )
    });
    page(
        StatusCode::OK,
        lang,
        &PersonPage {
            chrome,
            person,
            timeline,
            older_href,
            paged: asked.cursor.is_some(),
            kind: form.kind,
            since: form.since,
        },
        remember,
    )
}

#[derive(Template)]
#[template(path = "console/diagnosis.html")]
struct DiagnosisPage {
    chrome: Chrome,
    d: DiagnosisView,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DiagnosisForm {
    trace_id: String,
    payment_id: String,
}

/// `GET /support/diagnosis`: the verdict, the story and the next steps of
/// one binding attempt (`trace_id`) or payment (`payment_id`).
pub async fn diagnosis(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, remember }: PageLang,
    Query(form): Query<DiagnosisForm>,
) -> Response {
    let chrome = console.chrome(lang, w::DIAGNOSIS.get(lang), "/support/diagnosis");
    let query = DiagnoseQuery {
        trace_id: given(&form.trace_id),
        payment_id: given(&form.payment_id),
        user_id: None,
        since: None,
    };
    let mut chrome = chrome;
    chrome.switch_href = match (&query.trace_id, &query.payment_id) {
        (_, Some(id)) => switch(&chrome, "/support/diagnosis", "payment_id", id),
        (Some(id), None) => switch(&chrome, "/support/diagnosis", "trace_id", id),
        (None, None) => chrome.switch_href.clone(),
    };
    match diagnose::for_support(&state, reader(&console, &ctx), &query, ctx.now, lang).await {
        Ok(d) => page(StatusCode::OK, lang, &DiagnosisPage { chrome, d }, remember),
        Err(error) => failure(chrome, &error),
    }
}

/// The other language's address of a page with one query value.
fn switch(chrome: &Chrome, path: &str, name: &str, value: &str) -> String {
    let other = match chrome.lang {
        Lang::ZhCn => "en",
        Lang::En => "zh",
    };
    query_url(path, &[(name, value), ("lang", other)])
}

#[derive(Template)]
#[template(path = "console/tickets.html")]
struct TicketsPage {
    chrome: Chrome,
    list: SupportTicketList,
    status: String,
    older_than: String,
    /// The next page of the same queue, when there is one.
    more_href: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TicketsForm {
    status: String,
    older_than: String,
    cursor: String,
}

/// `GET /support/tickets`: the queue by status and age (the longest
/// waiting first), or the newest of every status.
pub async fn ticket_list(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, remember }: PageLang,
    Query(form): Query<TicketsForm>,
) -> Response {
    let chrome = console.chrome(lang, w::TICKETS.get(lang), "/support/tickets");
    let query = TicketQuery {
        user_id: None,
        status: given(&form.status),
        older_than: given(&form.older_than),
        limit: None,
        cursor: given(&form.cursor),
    };
    match tickets::page(&state, &query, ctx.now).await {
        Ok(list) => {
            let more_href = list.next_cursor.as_ref().map(|cursor| {
                query_url(
                    "/support/tickets",
                    &[
                        ("status", form.status.trim()),
                        ("older_than", form.older_than.trim()),
                        ("cursor", cursor),
                    ],
                )
            });
            page(
                StatusCode::OK,
                lang,
                &TicketsPage {
                    chrome,
                    list,
                    status: form.status,
                    older_than: form.older_than,
                    more_href,
                },
                remember,
            )
        }
        Err(error) => failure(chrome, &error),
    }
}

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct TicketPage {
    chrome: Chrome,
    c: SupportTicketConversation,
    saved: bool,
    problem: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SavedQuery {
    saved: String,
}

/// `GET /support/tickets/{id}`: the conversation with support's notes, and
/// the form to reply, set the status or add a note.
pub async fn ticket(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, remember }: PageLang,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    let path = format!("/support/tickets/{id}");
    let chrome = console.chrome(lang, &format!("{} {id}", w::TICKET.get(lang)), &path);
    match ticket_replies::for_support(&state, reader(&console, &ctx), &id).await {
        Ok(c) => page(
            StatusCode::OK,
            lang,
            &TicketPage {
                chrome,
                c,
                saved: !query.saved.is_empty(),
                problem: None,
            },
            remember,
        ),
        Err(error) => failure(chrome, &error),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplyForm {
    csrf: String,
    message: String,
    status: String,
    internal_note: String,
}

/// `POST /support/tickets/{id}`: what support writes, through the flow of
/// `POST /v1/support/tickets/{id}/replies`; then back to the ticket.
pub async fn reply(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, .. }: PageLang,
    Path(id): Path<String>,
    Form(form): Form<ReplyForm>,
) -> Response {
    if !console.csrf_matches(&form.csrf) {
        return session::refused(lang, Some(&console));
    }
    let path = format!("/support/tickets/{id}");
    let chrome = console.chrome(lang, &format!("{} {id}", w::TICKET.get(lang)), &path);
    let request = SupportReplyRequest {
        message: given(&form.message),
        status: given(&form.status),
        internal_note: given(&form.internal_note),
    };
    let written = match request.check_fields(&state.config.limits) {
        Ok(()) => {
            ticket_replies::support_replies(
                &state,
                reader(&console, &ctx),
                &console.key_id,
                &id,
                &request,
                ctx.now,
            )
            .await
        }
        Err(error) => Err(ApiError::from(error)),
    };
    match written {
        Ok(_) => Redirect::to(&format!("{path}?saved=1")).into_response(),
        Err(error) => {
            let problem = format!("{} {}", error.0.message(lang), error.0.remedy(lang));
            match ticket_replies::for_support(&state, reader(&console, &ctx), &id).await {
                Ok(c) => page(
                    status_of(&error.0),
                    lang,
                    &TicketPage {
                        chrome,
                        c,
                        saved: false,
                        problem: Some(problem),
                    },
                    false,
                ),
                Err(error) => failure(chrome, &error),
            }
        }
    }
}
