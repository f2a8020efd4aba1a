//! The timeline of a run: the trace folded, line by line, into a bounded model of what each
//! subtask did over processing time — the lanes of the space-time diagram — and what the job
//! did as a whole (checkpoints, faults, restarts).
//!
//! Marks that can be many (buffers, snapshots, firings, watermark advances, commits) are
//! binned ([`Binned`]): the bound holds memory, and the counts stay exact. Spans
//! (backpressure, alignment, replay) are kept while there are few and merged with their
//! neighbour once there are many.
//!
//! [`Recorder`] is the `Write` the simulation's trace goes to (`RunOptions::trace`): it reads
//! each complete line ([`super::model`]) and folds it in.

use super::bins::{Agg, Binned, Count};
use super::model::{Event, Line, Split, parse_line};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Bins for buffers, over all channels.
const BUFFER_BINS: usize = 20_000;
/// Bins per subtask and kind.
const TASK_BINS: usize = 2_000;
/// Spans per subtask and kind before neighbours merge.
const TASK_SPANS: usize = 2_000;
/// Job-level events of one kind kept (faults, restarts, status changes).
const JOB_EVENTS: usize = 1_000;

/// Network buffers of one channel in one bin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buffers {
    /// Earliest send (ns).
    pub first_sent_ns: u64,
    /// Latest send (ns).
    pub last_sent_ns: u64,
    /// Earliest arrival (ns).
    pub first_arrived_ns: u64,
    /// Latest arrival (ns).
    pub last_arrived_ns: u64,
    /// Buffers.
    pub n: u64,
    /// Records in them.
    pub records: u64,
    /// Bytes in them.
    pub bytes: u64,
}

impl Agg for Buffers {
    fn first_ns(&self) -> u64 {
        self.first_sent_ns
    }
    fn merge(&mut self, o: Self) {
        self.first_sent_ns = self.first_sent_ns.min(o.first_sent_ns);
        self.last_sent_ns = self.last_sent_ns.max(o.last_sent_ns);
        self.first_arrived_ns = self.first_arrived_ns.min(o.first_arrived_ns);
        self.last_arrived_ns = self.last_arrived_ns.max(o.last_arrived_ns);
        self.n += o.n;
        self.records += o.records;
        self.bytes += o.bytes;
    }
}

/// Events with a value range (watermark advances, snapshots of checkpoints, commits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranged {
    /// Events and their span.
    pub count: Count,
    /// Smallest value (watermark ms, checkpoint id).
    pub min: i64,
    /// Largest value.
    pub max: i64,
    /// A sum that goes with them (snapshot bytes, committed records).
    pub sum: u64,
}

impl Ranged {
    /// One event at `t` with `value` and `sum`.
    pub fn at(t: u64, value: i64, sum: u64) -> Self {
        Ranged {
            count: Count::at(t),
            min: value,
            max: value,
            sum,
        }
    }
}

impl Agg for Ranged {
    fn first_ns(&self) -> u64 {
        self.count.first_ns
    }
    fn merge(&mut self, o: Self) {
        self.count.merge(o.count);
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.sum += o.sum;
    }
}

/// Window firings in one bin: how many, and the windows (event time) they closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fires {
    /// Firings and their span.
    pub count: Count,
    /// Earliest window start (ms).
    pub window_start: i64,
    /// Latest window end (ms).
    pub window_end: i64,
    /// The operator's watermark at the last one (ms).
    pub watermark: i64,
    /// The key of the first one, as JSON.
    pub first_key: String,
    /// The start of the first one's window (ms).
    pub first_start: i64,
}

impl Agg for Fires {
    fn first_ns(&self) -> u64 {
        self.count.first_ns
    }
    fn merge(&mut self, o: Self) {
        self.count.merge(o.count);
        self.window_start = self.window_start.min(o.window_start);
        self.window_end = self.window_end.max(o.window_end);
        self.watermark = self.watermark.max(o.watermark);
    }
}

/// A stretch of processing time: `[start, end)` in ns, and how many spans it merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start (ns).
    pub start_ns: u64,
    /// End (ns).
    pub end_ns: u64,
    /// Spans merged into it (1: exact).
    pub n: u64,
    /// The checkpoint, for an alignment (the last one when merged).
    pub checkpoint: u64,
}

/// Spans of one kind, merged with their neighbour when there are more than a bound.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    /// Closed spans, in time order.
    pub done: Vec<Span>,
    /// The open one: start and checkpoint.
    open: Option<(u64, u64)>,
}

impl Spans {
    fn start(&mut self, t: u64, checkpoint: u64) {
        if self.open.is_none() {
            self.open = Some((t, checkpoint));
        }
    }

    fn end(&mut self, t: u64) {
        if let Some((s, checkpoint)) = self.open.take() {
            self.push(Span {
                start_ns: s,
                end_ns: t,
                n: 1,
                checkpoint,
            });
        }
    }

    fn push(&mut self, sp: Span) {
        self.done.push(sp);
        if self.done.len() > TASK_SPANS {
            // merge pairwise: half as many, every span still covered
            let old = std::mem::take(&mut self.done);
            for pair in old.chunks(2) {
                let (a, b) = (pair[0], *pair.last().unwrap_or(&pair[0]));
                self.done.push(Span {
                    start_ns: a.start_ns,
                    end_ns: b.end_ns,
                    n: if pair.len() == 2 { a.n + b.n } else { a.n },
                    checkpoint: b.checkpoint,
                });
            }
        }
    }

    /// Closes an open span at `t` (the end of the run).
    fn close(&mut self, t: u64) {
        self.end(t);
    }
}

/// A restore of a source subtask and the replay after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    /// When (ns).
    pub at_ns: u64,
    /// The checkpoint (`None`: from the beginning).
    pub checkpoint: Option<u64>,
    /// Its splits.
    pub splits: Vec<Split>,
    /// Records read again: Σ (reached − offset).
    pub replayed: u64,
    /// When the subtask had sent as many records again after the restore (ns) — the end of
    /// the replay as far as the trace shows it (a chain that filters sends fewer records,
    /// so then this is later than the real end); `None`: not reached before the run ended.
    pub replay_end_ns: Option<u64>,
    /// Records still to send before the replay counts as done.
    left: u64,
}

/// Everything drawn on one subtask's lane.
#[derive(Debug, Clone)]
pub struct TaskTimeline {
    /// Snapshots (checkpoint id as the value, state bytes as the sum): barrier ticks.
    pub snapshots: Binned<(), Ranged>,
    /// Barrier alignments (`alignment_started` → `alignment_done`).
    pub alignments: Spans,
    /// Backpressure (`backpressure_start` → `backpressure_end`).
    pub backpressure: Spans,
    /// Window firings.
    pub fires: Binned<(), Fires>,
    /// Watermark advances (value: the new watermark, ms).
    pub watermarks: Binned<(), Ranged>,
    /// Watermark of each input channel (by sender; value: the channel's watermark, ms).
    pub channel_watermarks: Binned<String, Ranged>,
    /// Records received per bin (value unused; sum: records).
    pub records_in: Binned<(), Ranged>,
    /// Records sent over the network per bin (value unused; sum: records).
    pub records_out: Binned<(), Ranged>,
    /// Late elements: `added` (within the allowed lateness), `side` (side output),
    /// `dropped` (value: the element's timestamp).
    pub late: Binned<&'static str, Ranged>,
    /// Pre-commits of a two-phase-commit sink (value: checkpoint; sum: records).
    pub pre_commits: Binned<(), Ranged>,
    /// Commits (value: checkpoint; sum: records made visible).
    pub commits: Binned<(), Ranged>,
    /// Restores of a source subtask, with the replay after each.
    pub restores: Vec<Restore>,
    /// When its input ended.
    pub end_of_input_ns: Option<u64>,
    /// When it finished.
    pub finished_ns: Option<u64>,
}

impl Default for TaskTimeline {
    fn default() -> Self {
        TaskTimeline {
            snapshots: Binned::new(TASK_BINS),
            alignments: Spans::default(),
            backpressure: Spans::default(),
            fires: Binned::new(TASK_BINS),
            watermarks: Binned::new(TASK_BINS),
            channel_watermarks: Binned::new(TASK_BINS * 4),
            records_in: Binned::new(TASK_BINS),
            records_out: Binned::new(TASK_BINS),
            late: Binned::new(TASK_BINS),
            pre_commits: Binned::new(TASK_BINS),
            commits: Binned::new(TASK_BINS),
            restores: Vec::new(),
            end_of_input_ns: None,
            finished_ns: None,
        }
    }
}

/// One checkpoint as the coordinator saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointSpan {
    /// Triggered (ns).
    pub triggered_ns: Option<u64>,
    /// Completed (ns).
    pub completed_ns: Option<u64>,
    /// Failed or aborted (ns, why).
    pub failed: Option<(u64, String)>,
}

/// A job-level event: when, and what (`fault`, `heartbeat_timeout`, `restart`, `job_status`,
/// `job_stopped`, `resubmit`) with its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvent {
    /// When (ns).
    pub at_ns: u64,
    /// The trace's event name.
    pub kind: &'static str,
    /// What it says, in words.
    pub text: String,
}

/// A subtask of one job: `epoch` counts the resubmissions before it (a rescale runs the job
/// again, whose subtasks may carry the same names).
pub type TaskKey = (u32, String);

/// The run's timeline, folded from its trace.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Trace lines read.
    pub lines: u64,
    /// Lines per kind drawn (by event name), for the counts the page states.
    pub kinds: BTreeMap<String, u64>,
    /// The last line's time (ns).
    pub end_ns: u64,
    /// Per subtask.
    pub tasks: BTreeMap<TaskKey, TaskTimeline>,
    /// Network buffers per channel (`(epoch, from, to)`).
    pub buffers: Option<Binned<(u32, String, String), Buffers>>,
    /// Unaligned barriers per channel (value: checkpoint; sum: buffers overtaken).
    pub unaligned: Option<Binned<(u32, String, String), Ranged>>,
    /// Checkpoints by id.
    pub checkpoints: BTreeMap<u64, CheckpointSpan>,
    /// Job-level events, in time order (at most a bound per kind).
    pub job: Vec<JobEvent>,
    /// Resubmissions so far.
    pub epoch: u32,
}

impl Timeline {
    fn task(&mut self, name: String) -> &mut TaskTimeline {
        self.tasks.entry((self.epoch, name)).or_default()
    }

    fn job_event(&mut self, at_ns: u64, kind: &'static str, text: String) {
        if self.job.iter().filter(|e| e.kind == kind).count() < JOB_EVENTS {
            self.job.push(JobEvent { at_ns, kind, text });
        }
    }

    /// Folds one line in.
    pub fn add(&mut self, line: Line) {
        let t = line.t_ns;
        self.lines += 1;
        self.end_ns = self.end_ns.max(t);
        let kind = event_name(&line.event);
        if kind != "other" {
            *self.kinds.entry(kind.to_string()).or_default() += 1;
        }
        match line.event {
            Event::Buffer {
                from,
                to,
                records,
                bytes,
                sent_ns,
            } => self.buffer(t, from, to, records, bytes, sent_ns),
            Event::BackpressureStart { task } => self.task(task).backpressure.start(t, 0),
            Event::BackpressureEnd { task } => self.task(task).backpressure.end(t),
            Event::EndOfInput { task } => self.task(task).end_of_input_ns = Some(t),
            Event::TaskFinished { task } => self.task(task).finished_ns = Some(t),
            Event::Watermark { task, watermark } => self
                .task(task)
                .watermarks
                .add((), Ranged::at(t, watermark, 0)),
            Event::ChannelWatermark {
                task,
                from,
                watermark,
            } => self
                .task(task)
                .channel_watermarks
                .add(from, Ranged::at(t, watermark, 0)),
            Event::WindowFired {
                task,
                key,
                window_start,
                window_end,
                watermark,
            } => self.task(task).fires.add(
                (),
                Fires {
                    count: Count::at(t),
                    window_start,
                    window_end,
                    watermark,
                    first_key: key.to_string(),
                    first_start: window_start,
                },
            ),
            Event::LateRecordAdded { task, ts } => {
                self.task(task).late.add("added", Ranged::at(t, ts, 0))
            }
            Event::LateRecord { task, ts } => {
                self.task(task).late.add("side", Ranged::at(t, ts, 0))
            }
            Event::LateRecordDropped { task, ts } => {
                self.task(task).late.add("dropped", Ranged::at(t, ts, 0))
            }
            Event::AlignmentStarted { task, checkpoint } => {
                self.task(task).alignments.start(t, checkpoint)
            }
            Event::AlignmentDone { task, .. } => self.task(task).alignments.end(t),
            Event::Snapshot {
                task,
                checkpoint,
                bytes,
            } => self
                .task(task)
                .snapshots
                .add((), Ranged::at(t, checkpoint as i64, bytes)),
            Event::PreCommit {
                task,
                checkpoint,
                records,
            } => self
                .task(task)
                .pre_commits
                .add((), Ranged::at(t, checkpoint as i64, records)),
            Event::Commit {
                task,
                checkpoint,
                records,
                ..
            } => self
                .task(task)
                .commits
                .add((), Ranged::at(t, checkpoint as i64, records)),
            Event::Restore {
                task,
                checkpoint,
                splits,
            } => self.restore(t, task, checkpoint, splits),
            other => self.job_line(t, other),
        }
    }

    /// The job-level lines: checkpoints, faults, restarts, status, savepoints.
    fn job_line(&mut self, t: u64, e: Event) {
        match e {
            Event::CheckpointTriggered { id } => {
                self.checkpoints.entry(id).or_default().triggered_ns = Some(t)
            }
            Event::CheckpointCompleted { id } => {
                self.checkpoints.entry(id).or_default().completed_ns = Some(t)
            }
            Event::CheckpointFailed { id, reason } => {
                self.checkpoints.entry(id).or_default().failed = Some((t, reason))
            }
            Event::UnalignedBarrier {
                from,
                to,
                checkpoint,
                overtook_queued,
            } => {
                let epoch = self.epoch;
                self.unaligned
                    .get_or_insert_with(|| Binned::new(BUFFER_BINS))
                    .add(
                        (epoch, from, to),
                        Ranged::at(t, checkpoint as i64, overtook_queued),
                    )
            }
            Event::Fault { what } => self.job_event(t, "fault", what),
            Event::HeartbeatTimeout { task_manager } => self.job_event(
                t,
                "heartbeat_timeout",
                format!(
                    "the JobManager declared TaskManager {task_manager} lost (heartbeat timeout)"
                ),
            ),
            Event::Restart { tasks, checkpoint } => self.job_event(
                t,
                "restart",
                format!(
                    "{tasks} subtask{} redeployed, restored from {}",
                    if tasks == 1 { "" } else { "s" },
                    checkpoint.map_or("no checkpoint (from the beginning)".into(), |c| format!(
                        "checkpoint {c}"
                    ))
                ),
            ),
            Event::JobStatus { status } => {
                self.job_event(t, "job_status", format!("job status: {status}"))
            }
            Event::JobStopped { savepoint } => self.job_event(
                t,
                "job_stopped",
                format!("stop-with-savepoint: the job stopped with savepoint {savepoint}"),
            ),
            Event::Resubmit { savepoint } => {
                self.epoch += 1;
                self.job_event(
                    t,
                    "resubmit",
                    format!("the job was submitted again from savepoint {savepoint}"),
                )
            }
            _ => {}
        }
    }

    fn buffer(&mut self, t: u64, from: String, to: String, records: u64, bytes: u64, sent: u64) {
        let epoch = self.epoch;
        // the replay of a restored source ends when it has sent as many records again
        let sender = self.task(from.clone());
        for r in sender
            .restores
            .iter_mut()
            .filter(|r| r.replay_end_ns.is_none())
        {
            r.left = r.left.saturating_sub(records);
            if r.left == 0 {
                r.replay_end_ns = Some(sent);
            }
        }
        sender.records_out.add((), Ranged::at(sent, 0, records));
        self.task(to.clone())
            .records_in
            .add((), Ranged::at(t, 0, records));
        self.buffers
            .get_or_insert_with(|| Binned::new(BUFFER_BINS))
            .add(
                (epoch, from, to),
                Buffers {
                    first_sent_ns: sent,
                    last_sent_ns: sent,
                    first_arrived_ns: t,
                    last_arrived_ns: t,
                    n: 1,
                    records,
                    bytes,
                },
            );
    }

    fn restore(&mut self, t: u64, task: String, checkpoint: Option<u64>, splits: Vec<Split>) {
        let replayed = splits
            .iter()
            .map(|s| s.reached.saturating_sub(s.offset))
            .sum();
        self.task(task).restores.push(Restore {
            at_ns: t,
            checkpoint,
            splits,
            replayed,
            replay_end_ns: if replayed == 0 { Some(t) } else { None },
            left: replayed,
        });
    }

    /// Closes what is still open at the end of the trace (a backpressure or alignment span).
    pub fn finish(&mut self) {
        let end = self.end_ns;
        for tt in self.tasks.values_mut() {
            tt.backpressure.close(end);
            tt.alignments.close(end);
        }
    }

    /// The subtask `name` of job `epoch`, if the trace mentions it.
    pub fn task_of(&self, epoch: u32, name: &str) -> Option<&TaskTimeline> {
        self.tasks.get(&(epoch, name.to_string()))
    }

    /// Lines of kind `event` read.
    pub fn count(&self, event: &str) -> u64 {
        self.kinds.get(event).copied().unwrap_or(0)
    }
}

/// The trace's name of an event kind (`other` for the kinds not drawn).
fn event_name(e: &Event) -> &'static str {
    match e {
        Event::Buffer { .. } => "buffer",
        Event::BackpressureStart { .. } => "backpressure_start",
        Event::BackpressureEnd { .. } => "backpressure_end",
        Event::EndOfInput { .. } => "end_of_input",
        Event::TaskFinished { .. } => "task_finished",
        Event::JobStatus { .. } => "job_status",
        Event::Watermark { .. } => "watermark",
        Event::ChannelWatermark { .. } => "channel_watermark",
        Event::WindowFired { .. } => "window_fired",
        Event::LateRecordAdded { .. } => "late_record_added",
        Event::LateRecord { .. } => "late_record",
        Event::LateRecordDropped { .. } => "late_record_dropped",
        Event::CheckpointTriggered { .. } => "checkpoint_triggered",
        Event::CheckpointCompleted { .. } => "checkpoint_completed",
        Event::CheckpointFailed { .. } => "checkpoint_failed",
        Event::AlignmentStarted { .. } => "alignment_started",
        Event::AlignmentDone { .. } => "alignment_done",
        Event::Snapshot { .. } => "snapshot",
        Event::UnalignedBarrier { .. } => "unaligned_barrier",
        Event::Fault { .. } => "fault",
        Event::HeartbeatTimeout { .. } => "heartbeat_timeout",
        Event::Restart { .. } => "restart",
        Event::Restore { .. } => "restore",
        Event::PreCommit { .. } => "pre_commit",
        Event::Commit { .. } => "commit",
        Event::JobStopped { .. } => "job_stopped",
        Event::Resubmit { .. } => "resubmit",
        Event::Other => "other",
    }
}

/// Reads trace text (JSON lines) into a timeline. `Err`: the first bad line, by number.
pub fn read_trace(text: &str) -> Result<Timeline, String> {
    let mut tl = Timeline::default();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        tl.add(parse_line(l).map_err(|e| format!("trace line {}: {e}", i + 1))?);
    }
    tl.finish();
    Ok(tl)
}

/// The `Write` a run's trace goes to: folds every complete line into a [`Timeline`]. Clone
/// it before giving it to the simulation; [`Recorder::finish`] on the clone takes the
/// timeline out afterwards.
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Rc<RefCell<RecorderState>>,
}

#[derive(Default)]
struct RecorderState {
    timeline: Timeline,
    partial: Vec<u8>,
    error: Option<String>,
}

impl Recorder {
    /// A recorder with an empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// The timeline of every line written; `Err`: the first line that could not be read.
    pub fn finish(&self) -> Result<Timeline, String> {
        let mut st = self.inner.borrow_mut();
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        if !st.partial.is_empty() {
            return Err("the trace ended in the middle of a line".into());
        }
        let mut tl = std::mem::take(&mut st.timeline);
        tl.finish();
        Ok(tl)
    }
}

impl std::io::Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut st = self.inner.borrow_mut();
        let st = &mut *st;
        if st.error.is_some() {
            return Ok(buf.len());
        }
        let mut rest = buf;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            st.partial.extend_from_slice(&rest[..i]);
            rest = &rest[i + 1..];
            let line = std::mem::take(&mut st.partial);
            let n = st.timeline.lines + 1;
            match std::str::from_utf8(&line)
                .map_err(|e| e.to_string())
                .and_then(parse_line)
            {
                Ok(l) => st.timeline.add(l),
                Err(e) => {
                    st.error = Some(format!("trace line {n}: {e}"));
                    return Ok(buf.len());
                }
            }
        }
        st.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const TRACE: &str = r#"{"event":"job_status","status":"running","t_ns":0}
{"bytes":100,"end_of_partition":false,"event":"buffer","from":"S #0","records":10,"sent_ns":100,"t_ns":200,"to":"W #0"}
{"event":"backpressure_start","t_ns":300,"task":"S #0"}
{"event":"checkpoint_triggered","id":1,"t_ns":400}
{"bytes":8,"checkpoint":1,"event":"snapshot","t_ns":401,"task":"S #0"}
{"checkpoint":1,"event":"alignment_started","t_ns":500,"task":"W #0"}
{"alignment_ns":100,"checkpoint":1,"event":"alignment_done","t_ns":600,"task":"W #0"}
{"bytes":8,"checkpoint":1,"event":"snapshot","t_ns":600,"task":"W #0"}
{"event":"fault","t_ns":700,"what":"TaskManager 1 lost"}
{"checkpoint":1,"event":"restart","t_ns":800,"tasks":2}
{"checkpoint":1,"event":"restore","splits":[{"offset":5,"reached":25,"split":0}],"t_ns":800,"task":"S #0"}
{"bytes":100,"end_of_partition":false,"event":"buffer","from":"S #0","records":10,"sent_ns":900,"t_ns":950,"to":"W #0"}
{"bytes":100,"end_of_partition":false,"event":"buffer","from":"S #0","records":10,"sent_ns":1000,"t_ns":1050,"to":"W #0"}
{"event":"window_fired","key":"k","last_input":null,"result":[1],"subtask":0,"t_ns":1100,"task":"W #0","watermark":9,"window_end":10,"window_start":0}
"#;

    #[test]
    fn a_trace_folds_into_lanes_and_job_events() {
        let tl = read_trace(TRACE).unwrap();
        assert_eq!(tl.lines, 14);
        assert_eq!(tl.count("snapshot"), 2);
        let s = tl.task_of(0, "S #0").unwrap();
        let w = tl.task_of(0, "W #0").unwrap();
        assert_eq!(s.snapshots.iter().map(|(_, r)| r.count.n).sum::<u64>(), 1);
        assert_eq!(
            s.backpressure.done,
            [Span {
                start_ns: 300,
                end_ns: 1100,
                n: 1,
                checkpoint: 0
            }],
            "an open span closes at the end of the trace"
        );
        assert_eq!(w.alignments.done[0].start_ns, 500);
        assert_eq!(w.alignments.done[0].end_ns, 600);
        assert_eq!(w.fires.iter().map(|(_, f)| f.count.n).sum::<u64>(), 1);
        let r = &s.restores[0];
        assert_eq!(r.replayed, 20);
        assert_eq!(
            r.replay_end_ns,
            Some(1000),
            "20 records sent again by 1000 ns"
        );
        let kinds: Vec<&str> = tl.job.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["job_status", "fault", "restart"]);
        assert_eq!(tl.checkpoints[&1].triggered_ns, Some(400));
        let b = tl.buffers.as_ref().unwrap();
        assert_eq!(b.iter().map(|(_, x)| x.n).sum::<u64>(), 3);
    }

    #[test]
    fn the_recorder_reads_lines_split_across_writes_and_reports_a_bad_one() {
        let rec = Recorder::new();
        let mut w = rec.clone();
        let bytes = TRACE.as_bytes();
        for chunk in bytes.chunks(7) {
            w.write_all(chunk).unwrap();
        }
        assert_eq!(rec.finish().unwrap().lines, 14);
        let rec = Recorder::new();
        let mut w = rec.clone();
        w.write_all(b"{\"event\":\"snapshot\",\"t_ns\":1}\n")
            .unwrap();
        let e = rec.finish().unwrap_err();
        assert!(e.contains("line 1") && e.contains("task"), "{e}");
    }
}
