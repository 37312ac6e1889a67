//! How far a run is, while it runs: a bar with counts and an estimate of the time left when
//! stderr is a terminal (indicatif, drawn on stderr so stdout stays the scenarios' text), a
//! plain line every half minute when it is not (a CI log gets a sign of life, never a redraw),
//! nothing with `--quiet`.
//!
//! The plain lines are decided by `Lines::due` from instants it is given, so when a line is
//! due is tested without waiting.

use std::io::Write as _;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain progress line is written when stderr is not a terminal.
pub const LINE_EVERY: Duration = Duration::from_secs(30);

pub enum Progress {
    Off,
    Bar { bar: ProgressBar, failed: usize },
    Lines(Lines),
}

impl Progress {
    /// The progress for `total` scenarios: none when quiet, a bar on a terminal, else lines.
    pub fn new(total: usize, quiet: bool) -> Progress {
        if quiet || total == 0 {
            return Progress::Off;
        }
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            // No colour in the template: NO_COLOR and --color have nothing to switch off.
            let style =
                ProgressStyle::with_template("{spinner} {pos}/{len} scenarios{msg} [{elapsed}{left}] {wide_bar}")
                    .map(|s| {
                        s.progress_chars("=> ").with_key(
                            "left",
                            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                                // No estimate before a scenario has finished: it would be a guess.
                                if state.pos() > 0 {
                                    let _ = write!(w, ", about {} left", secs(state.eta()));
                                }
                            },
                        )
                    })
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            Progress::Bar { bar, failed: 0 }
        } else {
            Progress::Lines(Lines::new(total, Instant::now(), LINE_EVERY))
        }
    }

    /// A scenario finished.
    pub fn finished(&mut self, failed: bool) {
        match self {
            Progress::Off => {}
            Progress::Bar { bar, failed: count } => {
                bar.inc(1);
                if failed {
                    *count += 1;
                    bar.set_message(format!(", {count} failed"));
                }
            }
            Progress::Lines(lines) => lines.finished(failed),
        }
        self.tick();
    }

    /// Any event: a plain line if one is due.
    pub fn tick(&mut self) {
        if let Progress::Lines(lines) = self
            && let Some(line) = lines.due(Instant::now())
        {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }

    /// Writes the scenarios' text without tearing the bar.
    pub fn print(&self, write: impl FnOnce()) {
        match self {
            Progress::Bar { bar, .. } => bar.suspend(write),
            _ => write(),
        }
    }

    /// The run is over: the bar goes (the summary follows).
    pub fn done(&mut self) {
        if let Progress::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
        *self = Progress::Off;
    }
}

/// The plain lines: counts, time so far and an estimate of the time left.
pub struct Lines {
    total: usize,
    done: usize,
    failed: usize,
    started: Instant,
    last: Instant,
    every: Duration,
}

impl Lines {
    pub fn new(total: usize, now: Instant, every: Duration) -> Lines {
        Lines {
            total,
            done: 0,
            failed: 0,
            started: now,
            last: now,
            every,
        }
    }

    pub fn finished(&mut self, failed: bool) {
        self.done += 1;
        self.failed += usize::from(failed);
    }

    /// The line to write at `now`, if `every` has passed since the last one.
    pub fn due(&mut self, now: Instant) -> Option<String> {
        if now.saturating_duration_since(self.last) < self.every || self.done >= self.total {
            return None;
        }
        self.last = now;
        let elapsed = now.saturating_duration_since(self.started);
        // The pace so far (scenarios run side by side included) times what is left.
        let left = (self.done > 0).then(|| elapsed.mul_f64((self.total - self.done) as f64 / self.done as f64));
        let failed = if self.failed > 0 {
            format!(", {} failed", self.failed)
        } else {
            String::new()
        };
        Some(format!(
            "progress: {} of {} scenarios done{failed} in {}{}",
            self.done,
            self.total,
            secs(elapsed),
            left.map(|l| format!(", about {} left", secs(l))).unwrap_or_default()
        ))
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_written_every_period_with_counts_and_the_time_left() {
        let t0 = Instant::now();
        let mut lines = Lines::new(40, t0, Duration::from_secs(30));
        assert_eq!(lines.due(t0 + Duration::from_secs(29)), None, "not before the period");
        for i in 0..10 {
            lines.finished(i == 3);
        }
        assert_eq!(
            lines.due(t0 + Duration::from_secs(30)).as_deref(),
            Some("progress: 10 of 40 scenarios done, 1 failed in 30s, about 1m30s left")
        );
        assert_eq!(lines.due(t0 + Duration::from_secs(45)), None, "one line per period");
        assert!(lines.due(t0 + Duration::from_secs(60)).is_some());
    }

    #[test]
    fn no_estimate_before_the_first_scenario_and_no_line_after_the_last() {
        let t0 = Instant::now();
        let mut lines = Lines::new(2, t0, Duration::from_secs(30));
        assert_eq!(
            lines.due(t0 + Duration::from_secs(31)).as_deref(),
            Some("progress: 0 of 2 scenarios done in 31s")
        );
        lines.finished(false);
        lines.finished(false);
        assert_eq!(
            lines.due(t0 + Duration::from_secs(90)),
            None,
            "the summary says the rest"
        );
    }
}
