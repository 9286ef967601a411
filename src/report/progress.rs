//! The one progress facility: an indicatif bar on stderr for every wait
//! longer than a second, drawn only when stderr is a terminal (CI logs get
//! the one-line notice the command prints instead).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A countdown bar that moves by itself (a small thread redraws it every
/// 250 ms, so it works under any runtime); `finish` or drop clears it.
pub struct Countdown {
    shown: Option<Shown>,
}

struct Shown {
    bar: ProgressBar,
    detail: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl Countdown {
    /// `label` says what we wait for ("idling starved, disabled").
    pub fn start(label: &str, total: Duration) -> Self {
        if !std::io::stderr().is_terminal() || total <= Duration::from_secs(1) {
            return Countdown { shown: None };
        }
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let bar = ProgressBar::with_draw_target(Some(ms(total)), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(label.to_string());
        let detail = Arc::new(Mutex::new(String::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let (b, d, st) = (bar.clone(), detail.clone(), stop.clone());
        let ticker = std::thread::Builder::new()
            .name("amqpdoctor-progress".into())
            .spawn(move || {
                while !st.load(Ordering::Relaxed) {
                    let elapsed = started.elapsed();
                    b.set_position(ms(elapsed));
                    let detail = d.lock().map(|d| d.clone()).unwrap_or_default();
                    b.set_message(progress_text(elapsed, total, &detail));
                    std::thread::sleep(Duration::from_millis(250));
                }
            })
            .ok();
        Countdown {
            shown: Some(Shown {
                bar,
                detail,
                stop,
                ticker,
            }),
        }
    }

    /// Text shown after the elapsed/total figures.
    pub fn set_detail(&self, text: String) {
        if let Some(s) = &self.shown {
            if let Ok(mut d) = s.detail.lock() {
                *d = text;
            }
        }
    }

    pub fn finish(self) {}
}

impl Drop for Countdown {
    fn drop(&mut self) {
        if let Some(mut s) = self.shown.take() {
            s.stop.store(true, Ordering::Relaxed);
            if let Some(t) = s.ticker.take() {
                let _ = t.join();
            }
            s.bar.finish_and_clear();
        }
    }
}

/// `12 s / 182 s`, then the detail.
pub fn progress_text(elapsed: Duration, total: Duration, detail: &str) -> String {
    let mut s = format!("{} s / {} s", elapsed.as_secs(), total.as_secs_f64().ceil());
    if !detail.is_empty() {
        s.push_str("  ");
        s.push_str(detail);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_both_ends() {
        assert_eq!(
            progress_text(Duration::from_millis(12_400), Duration::from_secs(182), ""),
            "12 s / 182 s"
        );
        assert_eq!(
            progress_text(Duration::ZERO, Duration::from_millis(2500), "← 1"),
            "0 s / 3 s  ← 1"
        );
    }
}
