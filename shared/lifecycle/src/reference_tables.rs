//! Keeps the reference tables in force (提出先, 指針, 手続の規則) in step with what the operator
//! published, so that a correction of the data takes effect without a new build: each function
//! checks the published object at most once per interval (one HEAD), and when it changed reads
//! it, checks it as a whole and installs it.
//!
//! A published version that does not check out is refused, and the newest earlier version that
//! does is used instead, so every instance (also one started after the bad version) agrees on
//! the same tables; with nothing valid or nothing published, the copy embedded in the build.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use keiryoku_domain::tables::{Tables, TablesError, install, use_embedded};
use keiryoku_store::{AwsClients, Published, ReferenceData, StoreError};

/// How often a function looks for newly published tables unless configured.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(300);

/// How many versions back a refused publication falls back at most.
const FALLBACK_VERSIONS: i32 = 5;

/// What the published object comes to.
pub struct Resolution {
    /// The version in force and its tables; `None`: the embedded copy.
    pub in_force: Option<(Published, Option<Tables>)>,
    /// Versions newer than that one, refused, with the reason (`location`, error).
    pub refused: Vec<(String, TablesError)>,
}

/// The newest version of the published object, from `current` back, that checks out. A version
/// whose ETag is `in_force` is not read again: it is returned without tables.
pub async fn resolve(
    data: &ReferenceData,
    current: Published,
    in_force: Option<&str>,
) -> Result<Resolution, StoreError> {
    let mut refused = Vec::new();
    let mut candidates = vec![current];
    let mut listed = false;
    let mut index = 0;
    while index < candidates.len() {
        let candidate = candidates[index].clone();
        index += 1;
        if in_force == Some(candidate.etag.as_str()) {
            return Ok(Resolution {
                in_force: Some((candidate, None)),
                refused,
            });
        }
        let location = candidate.location(data.bucket());
        if let Some(bytes) = data.read(&candidate).await? {
            match Tables::from_bundle(&bytes, location.clone()) {
                Ok(tables) => {
                    return Ok(Resolution {
                        in_force: Some((candidate, Some(tables))),
                        refused,
                    });
                }
                Err(e) => refused.push((location, e)),
            }
        }
        if !listed {
            listed = true;
            let first = candidates[0].clone();
            candidates.extend(
                data.versions(FALLBACK_VERSIONS)
                    .await?
                    .into_iter()
                    .filter(|v| *v != first),
            );
        }
    }
    Ok(Resolution {
        in_force: None,
        refused,
    })
}

/// The published tables of one function.
pub struct TablesSource {
    data: ReferenceData,
    every: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    checked: Option<Instant>,
    /// The ETag of the current object when it was last resolved.
    seen: Option<String>,
    /// The ETag of the version in force (`None`: the embedded copy).
    in_force: Option<String>,
}

impl TablesSource {
    pub fn new(data: ReferenceData, every: Duration) -> TablesSource {
        TablesSource {
            data,
            every,
            state: Mutex::new(State::default()),
        }
    }

    /// From `REFERENCE_DATA_BUCKET` (and `REFERENCE_DATA_REFRESH_SECONDS`); `None` when the
    /// function has no bucket configured and works with the embedded copy only.
    pub fn from_env(aws: &AwsClients) -> Option<Arc<TablesSource>> {
        let bucket = std::env::var("REFERENCE_DATA_BUCKET")
            .ok()
            .filter(|b| !b.is_empty())?;
        let every = std::env::var("REFERENCE_DATA_REFRESH_SECONDS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(DEFAULT_REFRESH, Duration::from_secs);
        Some(Arc::new(TablesSource::new(
            ReferenceData::new(aws.s3(), bucket),
            every,
        )))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Looks for newly published tables when the interval has passed since the last look.
    /// Failures to reach the bucket keep the tables in force (they are logged).
    pub async fn refresh(&self) {
        let in_force = {
            let mut state = self.state();
            if state.checked.is_some_and(|t| t.elapsed() < self.every) {
                return;
            }
            state.checked = Some(Instant::now());
            state.in_force.clone()
        };
        let current = match self.data.current().await {
            Ok(current) => current,
            Err(e) => {
                tracing::warn!(error = %e, "published tables not checked; the tables in force stay");
                return;
            }
        };
        let Some(current) = current else {
            if in_force.is_some() {
                use_embedded();
                tracing::info!("published tables withdrawn; the embedded copy is in force");
            }
            let mut state = self.state();
            state.in_force = None;
            state.seen = None;
            return;
        };
        if self.state().seen.as_deref() == Some(current.etag.as_str()) {
            return;
        }
        let seen = current.etag.clone();
        let resolution = match resolve(&self.data, current, in_force.as_deref()).await {
            Ok(resolution) => resolution,
            Err(e) => {
                tracing::warn!(error = %e, "published tables not read; the tables in force stay");
                return;
            }
        };
        for (location, error) in &resolution.refused {
            tracing::error!(published = %location, error = %error, "published tables refused");
        }
        let mut state = self.state();
        state.seen = Some(seen);
        match resolution.in_force {
            Some((version, Some(tables))) => {
                let versions = install(tables).versions();
                state.in_force = Some(version.etag);
                tracing::info!(published = ?versions.published, fields = %versions.fields, authorities = %versions.authorities, guidelines = %versions.guidelines, rules = %versions.rules, "published tables in force");
            }
            Some((_, None)) => {}
            None => {
                if state.in_force.take().is_some() {
                    use_embedded();
                }
                tracing::error!("no published version checks out; the embedded copy is in force");
            }
        }
    }
}
