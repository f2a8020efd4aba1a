//! Network buffers as arrows from the sender's lane to the receiver's — the buffers of one
//! channel within a few pixels are one arrow — and unaligned barriers as dashed lines.

use super::space_time::{Layout, Tally, by_column, range};
use super::svg::{mark, n_of, pt};
use super::timeline::{Buffers, Ranged, Timeline};
use std::collections::BTreeMap;

/// Arrows for buffers at most (over all channels).
const BUFFER_MARKS: f64 = 600.0;

/// Network buffers as arrows from the sender's lane to the receiver's; the buffers of one
/// channel close together are one arrow.
pub(super) fn buffers(o: &mut String, lay: &Layout<'_>, tl: &Timeline, tally: &mut Tally) {
    let Some(b) = &tl.buffers else { return };
    let index = lay.lane_index();
    let mut per_channel: BTreeMap<(usize, usize), Vec<Buffers>> = BTreeMap::new();
    for ((epoch, from, to), x) in b.iter() {
        let (Some(&f), Some(&t)) = (
            index.get(&(*epoch, from.as_str())),
            index.get(&(*epoch, to.as_str())),
        ) else {
            continue;
        };
        per_channel.entry((f, t)).or_default().push(x.clone());
    }
    let px = (per_channel.len() as f64 * lay.sc.width / BUFFER_MARKS).max(8.0);
    o.push_str("<g class=\"buffers\" stroke=\"#888\" stroke-opacity=\"0.45\">\n");
    for ((f, t), items) in per_channel {
        for x in by_column(items.into_iter(), &lay.sc, px) {
            let sent = (x.first_sent_ns + x.last_sent_ns) / 2;
            let arrived = (x.first_arrived_ns + x.last_arrived_ns) / 2;
            let (y1, y2) = (lay.mid(f), lay.mid(t));
            let y2 = if y2 > y1 { y2 - 5.0 } else { y2 + 5.0 };
            let tip = format!(
                "{} {} → {}: {} records, {} bytes; sent {}, arrived {}",
                n_of(x.n, "network buffer", "network buffers"),
                lay.lanes[f].name,
                lay.lanes[t].name,
                x.records,
                x.bytes,
                range(pt(x.first_sent_ns), pt(x.last_sent_ns)),
                range(pt(x.first_arrived_ns), pt(x.last_arrived_ns))
            );
            let attrs = format!(
                "x1=\"{:.1}\" y1=\"{y1}\" x2=\"{:.1}\" y2=\"{y2}\" marker-end=\"url(#st-arrow)\"",
                lay.sc.x(sent),
                lay.sc.x(arrived)
            );
            mark(o, "line", "buffer", x.n, &tip, &attrs, "");
            tally.add("buffer", x.n);
        }
    }
    o.push_str("</g>\n");
    unaligned(o, lay, tl, &index, tally);
}

/// Unaligned barriers as dashed dark arrows: they overtake the buffers queued in the channel.
fn unaligned(
    o: &mut String,
    lay: &Layout<'_>,
    tl: &Timeline,
    index: &BTreeMap<(u32, &str), usize>,
    tally: &mut Tally,
) {
    let Some(u) = &tl.unaligned else { return };
    let mut per_channel: BTreeMap<(usize, usize), Vec<Ranged>> = BTreeMap::new();
    for ((epoch, from, to), x) in u.iter() {
        if let (Some(&f), Some(&t)) = (
            index.get(&(*epoch, from.as_str())),
            index.get(&(*epoch, to.as_str())),
        ) {
            per_channel.entry((f, t)).or_default().push(x.clone());
        }
    }
    for ((f, t), items) in per_channel {
        for r in by_column(items.into_iter(), &lay.sc, 3.0) {
            let x = lay.sc.x(r.count.first_ns);
            let tip = format!(
                "{} of checkpoint {} {} → {} at {}: overtook {} queued buffers (they go into the checkpoint as channel state)",
                n_of(r.count.n, "unaligned barrier", "unaligned barriers"),
                range(r.min.to_string(), r.max.to_string()),
                lay.lanes[f].name,
                lay.lanes[t].name,
                range(pt(r.count.first_ns), pt(r.count.last_ns)),
                r.sum
            );
            let attrs = format!(
                "x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\"",
                lay.mid(f),
                lay.mid(t)
            );
            mark(o, "line", "unaligned", r.count.n, &tip, &attrs, "");
            tally.add("unaligned barrier", r.count.n);
        }
    }
}
