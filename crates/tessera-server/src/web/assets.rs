//! The pages' stylesheet and script, compiled into the binary and served
//! under a name that carries a hash of their content, so browsers keep them
//! for a year and a new build's are new names.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file: its name, content type and bytes, and the name it is
/// served under (`site.3f2a9c1d0b7e.css`).
#[derive(Debug)]
pub struct Asset {
    pub served_as: String,
    content_type: &'static str,
    body: &'static [u8],
}

fn asset(name: &str, content_type: &'static str, body: &'static [u8]) -> Asset {
    let hash = hex::encode(&Sha256::digest(body)[..6]);
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    Asset {
        served_as: format!("{stem}.{hash}.{extension}"),
        content_type,
        body,
    }
}

pub static STYLESHEET: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "site.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../../web/assets/site.css"),
    )
});

pub static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../web/assets/console.js"),
    )
});

pub static WALLET_SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "wallet.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../web/assets/wallet.js"),
    )
});

/// The contact-support page's script: the device a ticket is written from.
pub static SUPPORT_SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "support.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../web/assets/support.js"),
    )
});

/// The add-card page's script: the number in fours, the bank from its
/// first six digits, and the card's own checks before sending.
pub static CARD_SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "card.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../web/assets/card.js"),
    )
});

/// Fingerprint or face (WebAuthn) on the wallet's pages: adding one, and
/// confirming with one (`wallet/confirm_passkey.html`).
pub static PASSKEY_SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "passkey.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../web/assets/passkey.js"),
    )
});

/// The address `PASSKEY_SCRIPT` is served at, for the templates.
pub fn passkey_script() -> String {
    format!("/assets/{}", PASSKEY_SCRIPT.served_as)
}

/// Every embedded file.
fn all() -> [&'static Asset; 6] {
    [
        &*STYLESHEET,
        &*SCRIPT,
        &*WALLET_SCRIPT,
        &*SUPPORT_SCRIPT,
        &*CARD_SCRIPT,
        &*PASSKEY_SCRIPT,
    ]
}

/// `/assets/{name}`: an embedded file by its hashed name; any other name
/// (an old build's too) is 404.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = all().into_iter().find(|asset| asset.served_as == name) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
