//! `[cluster]` and `[job]`: the simulated cluster and the job-wide settings.

use super::checker::Checker;
use crate::core::cost::BufferTimeout;
use crate::flink::keygroup::UPPER_BOUND_MAX_PARALLELISM;
use crate::flink::parallelism::{ParallelismLevel, job_default};
use crate::scenario::raw::{RawCluster, RawJob};
use crate::scenario::{Cluster, JobConfig, Spanned};
use toml::Spanned as TSpanned;

/// `[cluster]`: TaskManagers, slots and cores (one TaskManager with one slot when absent;
/// cores default to the slots).
pub fn cluster(ck: &mut Checker, raw: Option<&TSpanned<RawCluster>>) -> Cluster {
    let mut c = Cluster {
        task_managers: crate::core::defaults::cluster::TASK_MANAGERS,
        slots_per_tm: crate::core::defaults::cluster::SLOTS_PER_TASK_MANAGER,
        cores_per_tm: crate::core::defaults::cluster::SLOTS_PER_TASK_MANAGER,
    };
    let Some(raw) = raw else { return c };
    let raw = raw.get_ref();
    if let Some(v) = &raw.task_managers {
        c.task_managers = ck.count(v, "task_managers", 1024).unwrap_or(1);
    }
    if let Some(v) = &raw.slots_per_task_manager {
        c.slots_per_tm = ck.count(v, "slots_per_task_manager", 1024).unwrap_or(1);
    }
    c.cores_per_tm = match &raw.cores_per_task_manager {
        Some(v) => ck.count(v, "cores_per_task_manager", 1024).unwrap_or(1),
        None => c.slots_per_tm,
    };
    c
}

/// `[job]`: default and max parallelism, chaining, buffer timeout and watermark interval,
/// with Flink's defaults.
pub fn job(ck: &mut Checker, raw: Option<&TSpanned<RawJob>>) -> JobConfig {
    let (parallelism, level) = job_default(None, ck.client.parallelism, None);
    let mut j = JobConfig {
        parallelism,
        parallelism_level: level,
        client_parallelism: ck.client.parallelism,
        parallelism_span: None,
        max_parallelism: None,
        chaining: true,
        buffer_timeout: BufferTimeout::default(),
        auto_watermark_interval: crate::core::defaults::watermarks::AUTO_WATERMARK_INTERVAL,
    };
    let Some(raw) = raw else { return j };
    let raw = raw.get_ref();
    let level = |ck: &mut Checker, v: &Option<TSpanned<i64>>, what: &str| {
        v.as_ref().map(|v| {
            let p = ck
                .count(v, what, i64::from(UPPER_BOUND_MAX_PARALLELISM))
                .unwrap_or(1);
            (p, v.span())
        })
    };
    let environment = level(ck, &raw.environment_parallelism, "environment_parallelism");
    let configuration = level(ck, &raw.parallelism, "parallelism");
    (j.parallelism, j.parallelism_level) = job_default(
        environment.as_ref().map(|e| e.0),
        ck.client.parallelism,
        configuration.as_ref().map(|c| c.0),
    );
    j.parallelism_span = match j.parallelism_level {
        ParallelismLevel::Environment => environment.map(|e| e.1),
        ParallelismLevel::Configuration => configuration.map(|c| c.1),
        _ => None,
    };
    if let Some(v) = &raw.max_parallelism
        && let Some(m) = ck.count(v, "max_parallelism", i64::from(UPPER_BOUND_MAX_PARALLELISM))
    {
        j.max_parallelism = Some(Spanned {
            value: m,
            span: v.span(),
        });
    }
    if let Some(c) = raw.chaining {
        j.chaining = c;
    }
    if let Some(t) = &raw.auto_watermark_interval
        && let Some(d) = ck.duration(t, "auto_watermark_interval")
    {
        j.auto_watermark_interval = d;
    }
    if let Some(t) = &raw.buffer_timeout {
        let text = t.get_ref().trim();
        if text.eq_ignore_ascii_case("off") || text.eq_ignore_ascii_case("none") {
            j.buffer_timeout = BufferTimeout::Off;
        } else if let Some(d) = ck.duration(t, "buffer_timeout") {
            j.buffer_timeout = BufferTimeout::Interval(d);
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use crate::check::testing;
    use crate::core::cost::BufferTimeout;
    use crate::core::time::SimDuration;

    const JOB: &str = "[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nfields.k = { kind = \"sequence\" }\n[[sink]]\nname = \"out\"\ninput = \"a\"\n";

    fn parsed(head: &str) -> Result<crate::scenario::Scenario, String> {
        testing::parsed(&format!("{head}\n{JOB}"))
    }

    #[test]
    fn cores_default_to_the_slots_and_counts_are_bounded() {
        let s = parsed("[cluster]\ntask_managers = 2\nslots_per_task_manager = 3").unwrap();
        assert_eq!((s.cluster.task_managers, s.cluster.cores_per_tm), (2, 3));
        let e = parsed("[cluster]\ntask_managers = 0").unwrap_err();
        assert!(
            e.contains("task_managers must be at least 1, found 0"),
            "{e}"
        );
    }

    #[test]
    fn job_settings_have_flinks_defaults_and_buffer_timeout_can_be_off() {
        let s = parsed("").unwrap();
        assert_eq!(s.job.parallelism, 1);
        assert_eq!(s.job.auto_watermark_interval, SimDuration::from_millis(200));
        assert_eq!(s.job.buffer_timeout, BufferTimeout::default());
        let s = parsed("[job]\nbuffer_timeout = \"off\"\nparallelism = 3").unwrap();
        assert_eq!(s.job.buffer_timeout, BufferTimeout::Off);
        assert!(s.job.parallelism_span.is_some());
        let e = parsed("[job]\nmax_parallelism = 40000").unwrap_err();
        assert!(e.contains("max_parallelism must be at most 32768"), "{e}");
    }

    #[test]
    fn the_job_parallelism_follows_flinks_precedence_with_the_client() {
        use crate::check::{Client, parse_scenario_as};
        use crate::core::diag::SourceFile;
        use crate::flink::parallelism::ParallelismLevel as L;
        let with = |head: &str, p: Option<u32>| {
            let f = SourceFile::new("t.toml", format!("{head}\n{JOB}"));
            let s = parse_scenario_as(f, None, &[], &Client { parallelism: p }).unwrap();
            (s.job.parallelism, s.job.parallelism_level)
        };
        assert_eq!(with("", None), (1, L::Default));
        assert_eq!(with("", Some(3)), (3, L::Client));
        assert_eq!(with("[job]\nparallelism = 2", None), (2, L::Configuration));
        assert_eq!(with("[job]\nparallelism = 2", Some(3)), (3, L::Client));
        let env = "[job]\nparallelism = 2\nenvironment_parallelism = 4";
        assert_eq!(with(env, Some(3)), (4, L::Environment));
        let e = parsed("[job]\nenvironment_parallelism = 0").unwrap_err();
        assert!(
            e.contains("environment_parallelism must be at least 1"),
            "{e}"
        );
    }
}
