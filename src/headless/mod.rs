//! The headless commands: the same lane actor, journal and money-safety rules as the
//! TUI, driven from a shell. Human output by default, one JSON object with `--json`;
//! progress on stderr; exit codes a POS script can act on.

mod doctor;
mod forward;
mod output;
mod pair;
mod pay;
mod pin_entry;
mod serve;
mod signals;
mod status;
mod store;
mod tools;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::sync::mpsc::UnboundedSender;

use crate::cli::{Cli, Cmd, ConfigCmd, Global};
use crate::config::Config;
use crate::journal::Journal;
use crate::lane::LaneOwner;
use crate::owner::{Ask, Handler, Shared};

use crate::exit::{Code, Exit, Failure, Report, print_failure, to_stderr};
use crate::journal::FILE_NAME;
use crate::owner;
use crate::owner::Reached;

/// clap's error as one line for a JSON object: its first paragraph (the usage and the
/// hints follow on stderr), without "error: ".
pub fn usage_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let paragraph: Vec<&str> = text
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let line = paragraph.join(" ");
    line.strip_prefix("error: ").unwrap_or(&line).to_string()
}

/// Runs one headless command to its end and says how it went. `args` is the command
/// line, for the lane's owner when the command is handed to it.
pub async fn run(global: &Global, config: &Config, cmd: Cmd, args: &[String]) -> ExitCode {
    let json = global.json;
    let result = dispatch(global, config, cmd, args).await;
    let exit = match result {
        Ok(report) => {
            report.print(json);
            report.exit
        }
        Err(failure) => {
            print_failure(&failure, json);
            failure.exit
        }
    };
    exit.into()
}

/// `till config set-pin` / `clear-pin`: on the config file itself, without the rest of
/// the config (which may be what a new PIN hash mends).
pub fn config_file(global: &Global, action: ConfigCmd) -> ExitCode {
    let exit = match pin_entry::config_pin(global, action) {
        Ok(report) => {
            report.print(global.json);
            report.exit
        }
        Err(failure) => {
            print_failure(&failure, global.json);
            failure.exit
        }
    };
    exit.into()
}

async fn dispatch(
    global: &Global,
    config: &Config,
    cmd: Cmd,
    args: &[String],
) -> Result<Report, Failure> {
    let json = global.json;
    match cmd {
        Cmd::Config { action: None } => Ok(tools::config(config)),
        Cmd::Check => tools::check(config),
        Cmd::History { batch, search, csv } => tools::history(
            &existing_journal(config)?,
            config,
            batch.as_deref(),
            &search,
            csv,
        ),
        Cmd::Report {
            batch,
            from,
            to,
            csv,
        } => tools::report(
            &existing_journal(config)?,
            config,
            batch.as_deref(),
            from,
            to,
            csv,
        ),
        Cmd::Status { watch: false } => status::status(config).await,
        Cmd::Status { watch: true } => status::watch(config, json).await,
        Cmd::Store { action } => store::run(config, action).await,
        Cmd::Archive { older_than } => {
            tools::archive(&mut existing_journal(config)?, config, older_than)
        }
        // Through the lane's owner when there is one; else on a socket of their own,
        // holding the lane meanwhile.
        Cmd::Ping { count } => match technician(config, "till ping", args).await? {
            Checked::ByOwner(result) => result,
            Checked::Here(_owner) => doctor::ping(config, count).await,
        },
        Cmd::Serve => serve::serve(global, config).await,
        Cmd::Discover { wait } => tools::discover(config, Duration::from_secs(wait)).await,
        // Its own server, not the lane's link: no lane needed.
        Cmd::Pair(args) => pair::pair(config, args).await,
        Cmd::Doctor => match technician(config, "till doctor", args).await? {
            Checked::ByOwner(result) => result,
            Checked::Here(_owner) => doctor::doctor(config).await,
        },
        other => pay::run(global, config, other, args).await,
    }
}

/// How the lane's owner runs what other tills hand it: as these commands.
pub fn handler() -> Handler {
    Arc::new(|config, ask, shared, progress| {
        Box::pin(async move { serve(&config, ask, &shared, progress).await })
    })
}

/// A command another till handed to this one, which holds the lane: parsed again from
/// its command line under this till's config, done on this till's lane.
pub(crate) async fn serve(
    config: &Config,
    ask: Ask,
    shared: &Shared,
    progress: UnboundedSender<String>,
) -> Result<Report, Failure> {
    let cli =
        Cli::try_parse_from(&ask.args).map_err(|e| Failure::new(Exit::Usage, usage_message(&e)))?;
    let Some(mut cmd) = cli.command else {
        return Err(Failure::new(Exit::Usage, "no command to hand over"));
    };
    // The PIN is the asking till's (given or typed there), never this one's environment.
    cmd.set_supervisor_pin(ask.pin);
    match cmd {
        Cmd::Status { .. } => Ok(status::live(shared)),
        Cmd::Ping { count } => doctor::ping_through(config, shared, count).await,
        Cmd::Doctor => doctor::doctor_through(config, shared).await,
        other => {
            pay::serve(
                config,
                other,
                &ask.who,
                ask.user.as_deref(),
                shared,
                output::Progress::remote(progress),
            )
            .await
        }
    }
}

/// Where `ping` or `doctor` ran.
enum Checked {
    /// The lane's owner checked its own link: its answer.
    ByOwner(Result<Report, Failure>),
    /// This process holds the lane, to check the terminal on a socket of its own.
    Here(LaneOwner),
}

/// `ping` or `doctor`: handed to the lane's owner, or the lane for this process.
async fn technician(config: &Config, what: &str, args: &[String]) -> Result<Checked, Failure> {
    let link = config.link()?;
    let mut signals = signals::Signals::install()
        .map_err(|e| Failure::new(Exit::Unreachable, format!("cannot catch signals: {e}")))?;
    loop {
        match owner::reach(config, what, BRIEF_LANE_WAIT).await? {
            Reached::Lane(owner) => return Ok(Checked::Here(owner)),
            Reached::Owner { stream, holder } => {
                let ask = Ask {
                    args: args.to_vec(),
                    pin: None,
                    who: format!("{what} (pid {})", std::process::id()),
                    user: std::env::var("USER").ok(),
                };
                if let Some(result) =
                    forward::forward(stream, &holder, ask, false, &link, &mut signals).await
                {
                    return Ok(Checked::ByOwner(result));
                }
            }
        }
    }
}

/// How long a command that moves no money waits for a lane another till holds.
pub(crate) const BRIEF_LANE_WAIT: Duration = Duration::from_secs(2);

pub(crate) fn open_journal(config: &Config) -> Result<Journal, Failure> {
    Journal::open(&config.data_dir.value)
        .map_err(|e| Failure::new(Exit::Unreachable, e.to_string()))
}

/// The journal for a command that only reads it: a data dir without one (a mistyped
/// `--data-dir`) is said so, and nothing is created there.
pub(crate) fn existing_journal(config: &Config) -> Result<Journal, Failure> {
    let path = config.data_dir.value.join(FILE_NAME);
    if !path.exists() {
        return Err(Failure::new(
            Exit::Unreachable,
            format!(
                "no journal at {}: nothing to read (is --data-dir right?)",
                path.display()
            ),
        )
        .code(Code::NoJournal));
    }
    open_journal(config)
}
