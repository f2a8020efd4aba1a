//! Independent runs on every core, costliest first.
//!
//! A multi-run command (`sweep`, `compare`) is done when its longest worker is. Rayon's
//! `par_iter` splits the list in halves, so two long runs that sit in the same half run one
//! after the other while the other core idles at the end. Here every worker takes the next
//! job from one list sorted by estimated cost, longest first (Graham's LPT rule: the finish
//! is at most 4/3 of the best possible); the results come back in the jobs' own order, so
//! the outputs do not depend on the schedule or on the number of cores.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` applied to every job on the current rayon pool's threads, the jobs started in order
/// of decreasing `cost` (ties in their own order); the results in the jobs' order.
pub fn map<J, R, C, F>(jobs: &[J], cost: C, f: F) -> Vec<R>
where
    J: Sync,
    R: Send,
    C: Fn(&J) -> u64,
    F: Fn(&J) -> R + Sync,
{
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cost(&jobs[i])));
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let workers = rayon::current_num_threads().min(jobs.len());
    let work = || {
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = order.get(k) else { break };
            let r = f(&jobs[i]);
            *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        }
    };
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| work());
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every job is taken by a worker")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
    }

    #[test]
    fn one_worker_starts_the_jobs_costliest_first_and_ties_in_their_order() {
        let jobs = [3u64, 9, 1, 9, 5];
        let started = Mutex::new(Vec::new());
        let out = pool(1).install(|| {
            map(
                &jobs,
                |&c| c,
                |&c| {
                    started.lock().unwrap().push(c);
                    c * 10
                },
            )
        });
        assert_eq!(out, vec![30, 90, 10, 90, 50]);
        assert_eq!(started.into_inner().unwrap(), vec![9, 9, 5, 3, 1]);
    }

    #[test]
    fn results_are_in_the_jobs_order_and_each_job_runs_once_on_any_number_of_cores() {
        let jobs: Vec<u64> = (0..200).map(|i| (i * 7919) % 97).collect();
        let one = pool(1).install(|| map(&jobs, |&c| c, |&c| c * c + 1));
        for threads in [2, 3, 8] {
            let runs = AtomicUsize::new(0);
            let many = pool(threads).install(|| {
                map(
                    &jobs,
                    |&c| c,
                    |&c| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        c * c + 1
                    },
                )
            });
            assert_eq!(many, one, "{threads} threads");
            assert_eq!(runs.into_inner(), jobs.len(), "{threads} threads");
        }
        let none: Vec<u64> = Vec::new();
        assert!(map(&none, |&c| c, |&c| c).is_empty());
    }

    #[test]
    fn two_long_jobs_go_to_different_workers() {
        // Two workers; jobs 1 and 3 are long. Costliest first, each worker takes one of them
        // before any short job, so the long ones overlap.
        let jobs = [1u64, 100, 1, 100, 1, 1];
        let running = AtomicUsize::new(0);
        let overlapped = AtomicUsize::new(0);
        pool(2).install(|| {
            map(
                &jobs,
                |&c| c,
                |&c| {
                    if c == 100 {
                        running.fetch_add(1, Ordering::SeqCst);
                        // Wait (bounded) for the other long job to start.
                        for _ in 0..2000 {
                            if running.load(Ordering::SeqCst) == 2 {
                                overlapped.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        }
                    }
                },
            )
        });
        assert_eq!(overlapped.into_inner(), 2);
    }
}
