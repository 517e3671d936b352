//! The real binary in a pseudo-terminal, read through a terminal emulator.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// Keys as an xterm sends them, named as a cashier presses them.
pub mod keys {
    pub const F2: &str = "\x1bOQ";
    pub const F3: &str = "\x1bOR";
    pub const F4: &str = "\x1bOS";
    pub const F5: &str = "\x1b[15~";
    pub const F6: &str = "\x1b[17~";
    pub const F7: &str = "\x1b[18~";
    pub const F8: &str = "\x1b[19~";
    pub const F9: &str = "\x1b[20~";
    pub const F10: &str = "\x1b[21~";
    pub const DOWN: &str = "\x1b[B";
    pub const RIGHT: &str = "\x1b[C";
    pub const BACKTAB: &str = "\x1b[Z";
    pub const DELETE: &str = "\x1b[3~";
    pub const ESC: &str = "\x1b";
    pub const CTRL_C: &str = "\x03";
    pub const CTRL_U: &str = "\x15";
}

/// `program` with only the environment a till in a test needs: its own home, data dir
/// and config file (`dir/config.toml`) in `dir`, the terminal at `url`.
pub fn command(program: &str, dir: &std::path::Path, url: &str) -> CommandBuilder {
    let mut cmd = CommandBuilder::new(program);
    cmd.env_clear();
    for (k, v) in kept_env() {
        cmd.env(k, v);
    }
    cmd.env("TERM", "xterm");
    cmd.env("HOME", dir);
    cmd.env("TILL_DATA_DIR", dir.join("data"));
    cmd.env("TILL_CONFIG", dir.join("config.toml"));
    cmd.env("TILL_URL", url);
    cmd.env("TILL_APP_ID", "pty-app");
    cmd
}

/// Runs `cmd` in a pseudo-terminal, reads it until `text` appears, then hangs up: the
/// terminal's every handle closes (the child gets SIGHUP, and every later write to
/// the terminal fails), as when an SSH session drops. Returns what was read and the
/// child. Not a `Screen`: a screen's reader holds the terminal open as long as it runs.
pub async fn hang_up_after(
    cmd: CommandBuilder,
    text: &str,
) -> (String, Box<dyn portable_pty::Child + Send + Sync>) {
    let pair = native_pty_system().openpty(PtySize::default()).unwrap();
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let text = text.to_string();
    let seen = tokio::task::spawn_blocking(move || {
        let mut seen = String::new();
        let mut buf = [0u8; 1024];
        while !seen.contains(&text) {
            match reader.read(&mut buf) {
                Ok(n) if n > 0 => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                _ => break,
            }
        }
        seen
    });
    let seen = tokio::time::timeout(super::WAIT, seen)
        .await
        .unwrap()
        .unwrap();
    drop(pair.master);
    (seen, child)
}

/// How `child` ended, once it has; None if it is still running after `WAIT`.
pub async fn exited(
    child: &mut (dyn portable_pty::Child + Send + Sync),
) -> Option<portable_pty::ExitStatus> {
    let deadline = tokio::time::Instant::now() + super::WAIT;
    while tokio::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// The environment a child keeps through `env_clear`: a suite run under `faketime`
/// (LD_PRELOAD and its FAKETIME settings) runs its children on the same day, so a
/// gateway in the test and a till it starts agree on the time.
pub fn kept_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k == "LD_PRELOAD" || k.starts_with("FAKETIME"))
        .collect()
}

pub struct Screen {
    pub parser: Arc<Mutex<vt100::Parser>>,
    pub raw: Arc<Mutex<Vec<u8>>>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    _pair: portable_pty::PtyPair,
}

impl Screen {
    /// The binary against the terminal at `url`, with its own data dir and config.
    pub fn start(dir: &std::path::Path, url: &str, extra_env: &[(&str, &str)]) -> Screen {
        Screen::start_with(dir, url, super::QUICK, extra_env)
    }

    /// The same with a config file of the test's own.
    pub fn start_with(
        dir: &std::path::Path,
        url: &str,
        config_text: &str,
        extra_env: &[(&str, &str)],
    ) -> Screen {
        let config = dir.join("config.toml");
        std::fs::write(&config, config_text).unwrap();
        let mut cmd = command(env!("CARGO_BIN_EXE_till"), dir, url);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        Screen::spawn(cmd)
    }

    /// Any command in an 80x24 pseudo-terminal, its output parsed as a screen.
    pub fn spawn(cmd: CommandBuilder) -> Screen {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let child = pair.slave.spawn_command(cmd).unwrap();
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(24, 80, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p, r) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
                r.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Screen {
            parser,
            raw,
            writer,
            child,
            _pair: pair,
        }
    }

    pub fn contents(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub async fn wait_for(&self, text: &str) {
        if !self.settles(|screen| screen.contains(text)).await {
            panic!("'{text}' never appeared; the screen:\n{}", self.contents());
        }
    }

    /// Waits until the screen reads as `ready` says.
    pub async fn wait_until(&self, ready: impl Fn(&str) -> bool) {
        if !self.settles(ready).await {
            panic!("the screen never got there:\n{}", self.contents());
        }
    }

    async fn settles(&self, ready: impl Fn(&str) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + super::WAIT;
        while tokio::time::Instant::now() < deadline {
            if ready(&self.contents()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits for the outcome in large letters, then dismisses it and waits until it goes.
    pub async fn outcome(&mut self, word: &str) {
        self.wait_for(word).await;
        self.keys(" ");
        self.wait_until(|screen| !screen.contains(word)).await;
    }

    /// A sale of `digits` typed on the Sale screen, approved and dismissed.
    pub async fn sell(&mut self, digits: &str) {
        self.keys(keys::F2);
        self.wait_for("F2 Sale").await;
        self.keys(digits);
        self.keys("\r");
        self.outcome("APPROVED").await;
    }

    /// Answers the question on screen with `y` once it names `what`.
    pub async fn yes_to(&mut self, what: &str) {
        self.wait_for(what).await;
        self.keys("y");
    }

    /// Ctrl-C with nothing in flight: till exits 0.
    pub async fn quit(&mut self) {
        self.keys(keys::CTRL_C);
        assert_eq!(self.exit_code().await, 0, "{}", self.contents());
    }

    pub async fn exit_code(&mut self) -> u32 {
        match exited(self.child.as_mut()).await {
            Some(status) => status.exit_code(),
            None => panic!("till did not exit; the screen:\n{}", self.contents()),
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
