//! The help center's own words beside its pages' texts (`http/help.rs`):
//! the link its footer keeps to the page for developers.

use tessera_core::error::Text;

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

pub const FOR_DEVELOPERS: Text = t("开发者说明", "For developers");
