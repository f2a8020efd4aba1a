//! Where an operator's parallelism comes from: Flink's order of precedence.
//!
//! Flink documents four levels, the first one set wins
//! (docs/content/docs/dev/datastream/execution/parallel.md):
//! 1. **operator** — `operator.setParallelism(n)` in the job's code;
//! 2. **execution environment** — `env.setParallelism(n)` in `main`, for every operator that
//!    sets none;
//! 3. **client** — `flink run -p n`: the CLI writes it into the configuration the job is
//!    submitted with (`ProgramOptions` → `CoreOptions.DEFAULT_PARALLELISM`), so it overrides
//!    the cluster's file but not what `main` sets;
//! 4. **system** — `parallelism.default` in the Flink configuration (`config.yaml`),
//!    default 1.
//!
//! A non-keyed window (`windowAll`) is not a level: Flink's API fixes it at 1.

use std::fmt;

/// The level that decided an operator's parallelism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParallelismLevel {
    /// The operator's own `setParallelism` (`parallelism` on the node, or `[rescale]`).
    Operator,
    /// `windowAll`: Flink runs a window over a non-keyed stream with parallelism 1.
    WindowAll,
    /// `env.setParallelism` in `main` (`[job] environment_parallelism`).
    Environment,
    /// `flink run -p` (`streamlab … -p N`).
    Client,
    /// `parallelism.default` in the configuration (`[job] parallelism`).
    Configuration,
    /// Nothing set anywhere: Flink's default `parallelism.default` of 1.
    Default,
}

impl ParallelismLevel {
    /// How the level is set, in Flink's terms and in the scenario file's.
    pub fn how(self) -> &'static str {
        match self {
            Self::Operator => "operator: setParallelism",
            Self::WindowAll => "windowAll: always 1",
            Self::Environment => "environment: env.setParallelism ([job] environment_parallelism)",
            Self::Client => "client: flink run -p",
            Self::Configuration => "configuration: parallelism.default ([job] parallelism)",
            Self::Default => "default: parallelism.default = 1",
        }
    }

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::WindowAll => "windowAll",
            Self::Environment => "environment",
            Self::Client => "client -p",
            Self::Configuration => "configuration",
            Self::Default => "default",
        }
    }
}

impl fmt::Display for ParallelismLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The parallelism of the operators that set none, and the level it comes from: the
/// environment's, else the client's `-p`, else the configuration's `parallelism.default`,
/// else Flink's default 1.
pub fn job_default(
    environment: Option<u32>,
    client: Option<u32>,
    configuration: Option<u32>,
) -> (u32, ParallelismLevel) {
    if let Some(p) = environment {
        (p, ParallelismLevel::Environment)
    } else if let Some(p) = client {
        (p, ParallelismLevel::Client)
    } else if let Some(p) = configuration {
        (p, ParallelismLevel::Configuration)
    } else {
        (
            crate::core::defaults::cluster::PARALLELISM,
            ParallelismLevel::Default,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_beats_the_client_which_beats_the_configuration() {
        assert_eq!(
            job_default(Some(2), Some(3), Some(4)),
            (2, ParallelismLevel::Environment)
        );
        assert_eq!(
            job_default(None, Some(3), Some(4)),
            (3, ParallelismLevel::Client)
        );
        assert_eq!(
            job_default(None, None, Some(4)),
            (4, ParallelismLevel::Configuration)
        );
    }

    #[test]
    fn nothing_set_is_flinks_default_of_one() {
        assert_eq!(
            job_default(None, None, None),
            (1, ParallelismLevel::Default)
        );
    }
}
