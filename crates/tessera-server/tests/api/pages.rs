//! A browser of the server-rendered pages, for the API tests: a form sent
//! as a page sends it, a cookie kept as a browser keeps it, no redirect
//! followed so that each answer can be read.

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};

use crate::TestServer;

/// A browser of the pages: no redirects followed, its own session cookie.
pub struct Browser {
    pub client: Client,
    pub base: String,
    /// The session cookie's name: the console's or the wallet's.
    cookie_name: &'static str,
    pub cookie: Option<String>,
}

/// A form's fields, owned.
pub type OwnedForm = Vec<(&'static str, String)>;

/// A form's fields as a browser sends them.
pub fn encoded(form: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}

/// A page: its status, headers and HTML.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The CSRF token the page's forms carry.
    pub fn csrf(&self) -> String {
        let (_, rest) = self
            .html
            .split_once("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no CSRF token on the page: {}", self.html));
        rest.split('"').next().unwrap().to_owned()
    }
}

impl Browser {
    pub fn new(server: &TestServer, cookie_name: &'static str) -> Browser {
        Browser {
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.base.clone(),
            cookie_name,
            cookie: None,
        }
    }

    /// Keeps the session cookie a page set, if it set one.
    pub fn keep_cookie(&mut self, page: &Page) {
        let prefix = format!("{}=", self.cookie_name);
        if let Some(value) = page
            .headers
            .get(SET_COOKIE)
            .and_then(|cookie| cookie.to_str().unwrap().strip_prefix(prefix.as_str()))
        {
            self.cookie = Some(value.split(';').next().unwrap().to_owned());
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", format!("{}={cookie}", self.cookie_name)),
            None => request,
        };
        let response = request.send().await.unwrap();
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            html: response.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    /// A form sent as the console's own page sends it.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let base = self.base.clone();
        self.post_from(path, form, Some(base.as_str())).await
    }

    pub async fn post_from(&self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Page {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encoded(form));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        self.send(request).await
    }
}
