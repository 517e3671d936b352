//! The floor for start-up figures: a ratatui hello-world, the bench's own executable
//! run again with `TILL_BENCH_HELLO` set, started in the same pseudo-terminal as till
//! and timed the same way (exec to its first frame on screen).

use std::time::{Duration, Instant};

const ASKED: &str = "TILL_BENCH_HELLO";

/// What the hello-world's first frame says.
pub const SAYS: &str = "hello, world";

/// Run as the hello-world (draw one frame, wait for a key) when asked to, and exit.
pub fn run_if_asked() {
    if std::env::var_os(ASKED).is_none() {
        return;
    }
    let mut terminal = ratatui::init();
    let drawn =
        terminal.draw(|f| f.render_widget(ratatui::widgets::Paragraph::new(SAYS), f.area()));
    let _ = drawn.map(|_| crossterm::event::read());
    ratatui::restore();
    std::process::exit(0);
}

/// The hello-world in a pseudo-terminal.
pub fn spawn() -> super::pty::Screen {
    let mut cmd = portable_pty::CommandBuilder::new(std::env::current_exe().expect("own path"));
    cmd.env_clear();
    cmd.env("TERM", "xterm-256color");
    cmd.env(ASKED, "1");
    super::pty::Screen::spawn(cmd)
}

/// Exec to the first frame that shows `done`, for the screen `start` spawns.
pub async fn time_to_frame(
    start: impl FnOnce() -> super::pty::Screen,
    done: impl Fn(&str) -> bool,
) -> (Duration, super::pty::Screen) {
    let t = Instant::now();
    let screen = start();
    loop {
        if done(&screen.contents()) {
            return (t.elapsed(), screen);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
