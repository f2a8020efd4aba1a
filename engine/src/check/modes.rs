//! `[modes]`: the settings of the baseline execution models ([`crate::scenario::modes`]).

use super::checker::Checker;
use crate::core::time::SimDuration;
use crate::scenario::modes::{MicroBatchVariant, ModeSettings, OutputMode};
use crate::scenario::raw::RawModes;
use toml::Spanned as TSpanned;

/// Checks `[modes]`.
pub fn modes(ck: &mut Checker, raw: Option<&TSpanned<RawModes>>) -> ModeSettings {
    let mut m = ModeSettings::default();
    let Some(raw) = raw else { return m };
    let raw = raw.get_ref();
    if let Some(mb) = &raw.micro_batch {
        let mb = mb.get_ref();
        if let Some(v) = &mb.variant {
            match v.get_ref().as_str() {
                "structured" => m.micro_batch.variant = MicroBatchVariant::Structured,
                "dstream" => m.micro_batch.variant = MicroBatchVariant::Dstream,
                other => ck.error(
                    Some(v.span()),
                    format!("unknown micro-batch variant `{other}`"),
                    "valid: \"structured\" (Spark Structured Streaming), \"dstream\" (Spark Streaming's DStreams)",
                ),
            }
        }
        if let Some(v) = &mb.output_mode {
            match v.get_ref().as_str() {
                "append" => m.micro_batch.output_mode = OutputMode::Append,
                "update" => m.micro_batch.output_mode = OutputMode::Update,
                "complete" => m.micro_batch.output_mode = OutputMode::Complete,
                other => ck.error(
                    Some(v.span()),
                    format!("unknown output mode `{other}`"),
                    "valid: \"append\", \"update\", \"complete\"",
                ),
            }
        }
        if let Some(v) = &mb.overhead
            && let Some(d) = ck.duration(v, "modes.micro_batch.overhead")
        {
            m.micro_batch.overhead = d;
        }
        if let Some(v) = &mb.trigger
            && let Some(d) = ck.duration(v, "modes.micro_batch.trigger")
        {
            m.micro_batch.trigger = d;
            if d == SimDuration::ZERO && m.micro_batch.variant == MicroBatchVariant::Dstream {
                ck.error(
                    Some(v.span()),
                    "a DStream batch interval of 0 is not possible: DStreams cut the input into batches of a fixed interval",
                    "give an interval such as \"1 s\" (Spark's guide suggests 1 to 10 s), or use variant = \"structured\" for as-fast-as-possible batches",
                );
            }
        }
    }
    if let Some(a) = &raw.acking {
        let a = a.get_ref();
        if let Some(v) = &a.message_timeout
            && let Some(d) = ck.duration(v, "modes.acking.message_timeout")
        {
            if d == SimDuration::ZERO {
                ck.error(
                    Some(v.span()),
                    "modes.acking.message_timeout must be more than 0",
                    "Storm's default is \"30 s\"",
                );
            } else {
                m.acking.message_timeout = d;
            }
        }
        if let Some(v) = &a.ack_cost
            && let Some(d) = ck.duration(v, "modes.acking.ack_cost")
        {
            m.acking.ack_cost = d;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use crate::check::testing;
    use crate::scenario::modes::{MicroBatchVariant, OutputMode};

    fn parsed(head: &str) -> Result<crate::scenario::Scenario, String> {
        let text = format!(
            "{head}\n[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nfields.k = {{ kind = \"sequence\" }}\n[[sink]]\nname = \"out\"\ninput = \"a\"\n"
        );
        testing::parsed(&text)
    }

    #[test]
    fn micro_batch_and_acking_settings() {
        let s = parsed("[modes.micro_batch]\nvariant = \"dstream\"\noutput_mode = \"update\"\n[modes.acking]\nack_cost = \"1 us\"").unwrap();
        assert_eq!(s.modes.micro_batch.variant, MicroBatchVariant::Dstream);
        assert_eq!(s.modes.micro_batch.output_mode, OutputMode::Update);
        assert_eq!(s.modes.acking.ack_cost.as_nanos(), 1_000);
        let e = parsed("[modes.micro_batch]\nvariant = \"dstream\"\ntrigger = \"0 s\"\n[modes.acking]\nmessage_timeout = \"0 s\"").unwrap_err();
        assert!(
            e.contains("a DStream batch interval of 0 is not possible"),
            "{e}"
        );
        assert!(
            e.contains("modes.acking.message_timeout must be more than 0"),
            "{e}"
        );
        let e = parsed("[modes.micro_batch]\noutput_mode = \"all\"").unwrap_err();
        assert!(e.contains("unknown output mode `all`"), "{e}");
    }
}
