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
    phase: std::sync::Arc<std::sync::Mutex<String>>,
    stop: Option<std::sync::mpsc::Sender<()>>,
}

impl Step {
    /// Start a step.
    pub fn start(msg: impl Into<String>) -> Step {
        let msg = msg.into();
        let phase = std::sync::Arc::new(std::sync::Mutex::new(msg.clone()));
        let mut stop = None;
        let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template("wasiwheel: {spinner} {msg} [{elapsed}]")
                    .expect("valid template"),
            );
            b.set_message(msg.clone());
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            Some(b)
        } else {
            status(&format!("{msg}…"));
            // Not a terminal (CI logs, pip's captured output): a heartbeat
            // line every minute shows that a long phase is still going.
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let phase = phase.clone();
            let start = Instant::now();
            std::thread::spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    rx.recv_timeout(std::time::Duration::from_secs(60))
                {
                    let p = phase.lock().map(|p| p.clone()).unwrap_or_default();
                    status(&format!("{p}: still running ({:.0}s)", start.elapsed().as_secs_f64()));
                }
            });
            stop = Some(tx);
            None
        };
        Step { msg, start: Instant::now(), bar, phase, stop }
    }

    /// Update the step's message (e.g. the current phase).
    pub fn set(&self, phase: &str) {
        if let Ok(mut p) = self.phase.lock() {
            *p = format!("{}: {phase}", self.msg);
        }
        match &self.bar {
            Some(b) => b.set_message(format!("{}: {phase}", self.msg)),
            None => status(&format!("{}: {phase} ({:.0}s)", self.msg, self.start.elapsed().as_secs_f64())),
        }
    }

    /// Finish the step, printing how long it took.
    pub fn done(mut self) {
        self.stop.take();
        let secs = self.start.elapsed().as_secs_f64();
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        status(&format!("{}: done in {secs:.1}s", self.msg));
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
