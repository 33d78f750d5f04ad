//! Progress and status lines on stderr (stdout belongs to the frontend and to
//! programs run under `wasiwheel run`).

use std::time::Instant;

/// Print `wasiwheel: {msg}` on stderr.
pub fn status(msg: &str) {
    eprintln!("wasiwheel: {msg}");
}

/// A long step: prints `msg…` when started and `msg: done in N.Ns` at the end;
/// shows a spinner with the elapsed time in between when stderr is a terminal.
pub struct Step {
    msg: String,
    start: Instant,
    bar: Option<indicatif::ProgressBar>,
}

impl Step {
    /// Start a step.
    pub fn start(msg: impl Into<String>) -> Step {
        let msg = msg.into();
        let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(indicatif::ProgressStyle::with_template("wasiwheel: {spinner} {msg} [{elapsed}]").expect("valid template"));
            b.set_message(msg.clone());
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            Some(b)
        } else {
            status(&format!("{msg}…"));
            None
        };
        Step { msg, start: Instant::now(), bar }
    }

    /// Update the step's message (e.g. the current phase).
    pub fn set(&self, phase: &str) {
        match &self.bar {
            Some(b) => b.set_message(format!("{}: {phase}", self.msg)),
            None => status(&format!("{}: {phase} ({:.0}s)", self.msg, self.start.elapsed().as_secs_f64())),
        }
    }

    /// Finish the step, printing how long it took.
    pub fn done(self) {
        let secs = self.start.elapsed().as_secs_f64();
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        status(&format!("{}: done in {secs:.1}s", self.msg));
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
