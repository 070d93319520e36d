//! Several database hosts, one primary: failover without a restart.
//!
//! The database URL may name several hosts, as libpq's does
//! (`postgres://user@db1:5432,db2:5432/tessera`). A node writes only to the
//! host that is not in recovery (`pg_is_in_recovery()` is false): it finds
//! that host at start, checks it every [`CHECK_EVERY`], and when it stops
//! answering or turns out to be a standby, looks at every host again and
//! moves the pool to the one that has been promoted. Connections made to the
//! old host are not handed out again, warm or idle. While no host is a
//! primary (between the old one's death and the standby's promotion) every
//! operation fails at once as unavailable, which the API answers with
//! `database_unavailable` and `Retry-After`, rather than waiting out the
//! acquire timeout against a host that is gone.
//!
//! With one host nothing here runs: the pool reconnects to it by itself.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::{ConnectOptions, Connection};

use super::lease::Warm;
use crate::{StoreError, StoreResult};

/// How often a node asks its primary whether it still is one.
pub(super) const CHECK_EVERY: Duration = Duration::from_secs(1);
/// While no host is a primary, how often every host is asked again.
const SEARCH_EVERY: Duration = Duration::from_millis(250);
/// How long one host has to answer the question.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// The hosts of a database URL, each as the connect options for that host
/// alone, in the URL's order. A URL of one host gives one.
pub(super) fn hosts(url: &str) -> StoreResult<Vec<PgConnectOptions>> {
    split_hosts(url)
        .iter()
        .map(|single| {
            PgConnectOptions::from_str(single)
                .map_err(|e| StoreError::Other(format!("the database URL: {e}")))
        })
        .collect()
}

/// `scheme://userinfo@h1:p1,h2:p2/rest` as one URL per host. The userinfo
/// ends at the authority's last `@`, so a password holding `,` stays whole.
pub(super) fn split_hosts(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return vec![url.to_owned()];
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host_list) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    if !host_list.contains(',') {
        return vec![url.to_owned()];
    }
    host_list
        .split(',')
        .map(|host| format!("{scheme}://{userinfo}{host}{tail}"))
        .collect()
}

/// Where a node writes, and the watch that moves it.
#[derive(Debug)]
pub(super) struct Primary {
    hosts: Vec<PgConnectOptions>,
    /// The index in `hosts` the pool connects to.
    current: AtomicUsize,
    /// False while no host is a primary: operations fail at once.
    writable: AtomicBool,
    moves: Arc<Moves>,
}

/// When the pool last moved: kept apart from [`Primary`] because the pool's
/// own hooks hold it, and the watch ends when the store lets go of the
/// `Primary`.
#[derive(Debug)]
pub(super) struct Moves {
    /// In ms after `born` (0: never).
    moved_at_ms: AtomicU64,
    born: Instant,
}

impl Moves {
    /// Whether a pooled connection of `age` was made before the pool last
    /// moved, to a host that is no longer the primary.
    pub(super) fn predate(&self, age: Duration) -> bool {
        let moved = self.moved_at_ms.load(Ordering::Acquire);
        if moved == 0 {
            return false;
        }
        let since_move = self
            .born
            .elapsed()
            .saturating_sub(Duration::from_millis(moved));
        age > since_move
    }

    fn record(&self) {
        let now = u64::try_from(self.born.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.moved_at_ms.store(now, Ordering::Release);
    }
}

impl Primary {
    /// Finds the primary among `hosts`, asking them again until `within`
    /// has passed (a node may start while a failover is under way).
    pub(super) async fn find(
        hosts: Vec<PgConnectOptions>,
        within: Duration,
    ) -> StoreResult<Arc<Primary>> {
        let deadline = Instant::now() + within;
        let current = if hosts.len() == 1 {
            0
        } else {
            loop {
                match search(&hosts, None).await {
                    Ok(found) => break found,
                    Err(error) if Instant::now() >= deadline => return Err(error),
                    Err(_) => tokio::time::sleep(SEARCH_EVERY).await,
                }
            }
        };
        Ok(Arc::new(Primary {
            hosts,
            current: AtomicUsize::new(current),
            writable: AtomicBool::new(true),
            moves: Arc::new(Moves {
                moved_at_ms: AtomicU64::new(0),
                born: Instant::now(),
            }),
        }))
    }

    /// Whether the URL named more than one host.
    pub(super) fn has_standbys(&self) -> bool {
        self.hosts.len() > 1
    }

    /// The connect options of the host the pool should use now.
    pub(super) fn options(&self) -> PgConnectOptions {
        self.hosts[self.current.load(Ordering::Acquire)].clone()
    }

    /// Fails at once while no host is a primary.
    pub(super) fn check_writable(&self) -> StoreResult<()> {
        if self.writable.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(StoreError::Unavailable(
                "no database host is a primary at the moment (a failover is under way)".to_owned(),
            ))
        }
    }

    /// What the pool's hooks need to know of moves.
    pub(super) fn moves(&self) -> Arc<Moves> {
        self.moves.clone()
    }

    /// Watches the primary for as long as `pool` is open and this is held
    /// elsewhere (the store keeps it).
    pub(super) fn watch(self: &Arc<Primary>, pool: PgPool, warm: Arc<Warm>) {
        if !self.has_standbys() {
            return;
        }
        let weak: Weak<Primary> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(CHECK_EVERY).await;
                let Some(primary) = weak.upgrade() else { break };
                if pool.is_closed() {
                    break;
                }
                let current = primary.current.load(Ordering::Acquire);
                if let Ok(false) = in_recovery(&primary.hosts[current]).await {
                    continue;
                }
                primary.follow(&pool, &warm, current).await;
            }
        });
    }

    /// The primary at `was` stopped being one: looks until another (or the
    /// same, back again) answers as primary, then moves the pool there.
    async fn follow(&self, pool: &PgPool, warm: &Warm, was: usize) {
        let mut reported = false;
        loop {
            match search(&self.hosts, Some(was)).await {
                Ok(found) => {
                    if found != was {
                        pool.set_connect_options(self.hosts[found].clone());
                        self.current.store(found, Ordering::Release);
                        self.moves.record();
                        warm.forget_all();
                        tracing::warn!(
                            from = %describe(&self.hosts[was]),
                            to = %describe(&self.hosts[found]),
                            "the database primary moved; connections follow it"
                        );
                    } else if reported {
                        tracing::warn!(
                            host = %describe(&self.hosts[found]),
                            "the database primary answers again"
                        );
                    }
                    self.writable.store(true, Ordering::Release);
                    return;
                }
                Err(error) => {
                    if !reported {
                        tracing::warn!(%error, "no database host is a primary; writes wait for one");
                        reported = true;
                    }
                    self.writable.store(false, Ordering::Release);
                    if pool.is_closed() {
                        return;
                    }
                    tokio::time::sleep(SEARCH_EVERY).await;
                }
            }
        }
    }
}

/// The first host, in the URL's order, that answers as a primary: `prefer`
/// first when it is one, so that a slow answer elsewhere never moves a node
/// off a primary that is still well.
async fn search(hosts: &[PgConnectOptions], prefer: Option<usize>) -> StoreResult<usize> {
    let answers = futures_util::future::join_all(hosts.iter().map(in_recovery)).await;
    let primaries: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, answer)| matches!(answer, Ok(false)))
        .map(|(i, _)| i)
        .collect();
    if let Some(found) = prefer
        .filter(|p| primaries.contains(p))
        .or_else(|| primaries.first().copied())
    {
        return Ok(found);
    }
    let told: Vec<String> = hosts
        .iter()
        .zip(&answers)
        .map(|(host, answer)| match answer {
            Ok(_) => format!("{} is a standby", describe(host)),
            Err(error) => format!("{}: {error}", describe(host)),
        })
        .collect();
    Err(StoreError::Unavailable(format!(
        "no database host is a primary: {}",
        told.join("; ")
    )))
}

/// Asks one host whether it is in recovery, on a connection of its own.
async fn in_recovery(host: &PgConnectOptions) -> StoreResult<bool> {
    let asked = async {
        let mut conn = host.connect().await?;
        let answer = is_in_recovery(&mut conn).await;
        let _ = conn.close().await;
        answer
    };
    match tokio::time::timeout(ANSWER_WITHIN, asked).await {
        Ok(answer) => Ok(answer?),
        Err(_) => Err(StoreError::Unavailable(format!(
            "no answer within {} s",
            ANSWER_WITHIN.as_secs()
        ))),
    }
}

/// `pg_is_in_recovery()` on `conn`: true on a standby.
pub(super) async fn is_in_recovery(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(conn)
        .await
}

/// A host for logs: its address, never its password.
fn describe(host: &PgConnectOptions) -> String {
    format!("{}:{}", host.get_host(), host.get_port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_host_stays_one_url() {
        let url = "postgres://u:p@db:5432/tessera?sslmode=disable";
        assert_eq!(split_hosts(url), vec![url.to_owned()]);
        assert_eq!(split_hosts("not a url"), vec!["not a url".to_owned()]);
    }

    #[test]
    fn several_hosts_share_user_database_and_parameters() {
        let url = "postgresql://u:p,w@db1:5432,db2,[::1]:5433/tessera?sslmode=disable";
        assert_eq!(
            split_hosts(url),
            vec![
                "postgresql://u:p,w@db1:5432/tessera?sslmode=disable".to_owned(),
                "postgresql://u:p,w@db2/tessera?sslmode=disable".to_owned(),
                "postgresql://u:p,w@[::1]:5433/tessera?sslmode=disable".to_owned(),
            ]
        );
        let options = hosts(url).unwrap();
        assert_eq!(options.len(), 3);
        assert_eq!(
            (options[0].get_host(), options[0].get_port()),
            ("db1", 5432)
        );
        assert_eq!(
            (options[1].get_host(), options[1].get_port()),
            ("db2", 5432)
        );
        assert_eq!(options[2].get_port(), 5433);
        assert!(options.iter().all(|o| o.get_database() == Some("tessera")));
        assert!(options.iter().all(|o| o.get_username() == "u"));
    }

    #[test]
    fn hosts_without_userinfo_split_too() {
        assert_eq!(
            split_hosts("postgres://a:1,b:2/db"),
            vec![
                "postgres://a:1/db".to_owned(),
                "postgres://b:2/db".to_owned()
            ]
        );
    }
}
