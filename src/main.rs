use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use till::cli::{Cli, Cmd, wants_json};
use till::config::{Config, process_env};
use till::discover::{DEFAULT_INTERFACE, parse_interface};
use till::exit::{Exit, Failure, failure_json, print_failure};
use till::headless;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    // Known before parsing, so a command line clap refuses still gets its JSON.
    let json = wants_json(&args);
    let mut cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return refused(&e, json),
    };
    let fail = |failure: Failure| -> ExitCode {
        print_failure(&failure, json);
        failure.exit.into()
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            return fail(Failure::new(
                Exit::Unreachable,
                format!("cannot start the async runtime: {e}"),
            ));
        }
    };
    match cli.command.take() {
        Some(Cmd::Sim(args)) => {
            let interface = match sim_interface(&cli) {
                Ok(interface) => interface,
                Err(failure) => return fail(failure),
            };
            match runtime.block_on(till::sim::run(args, interface)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(Failure::new(Exit::Unreachable, format!("sim: {e}"))),
            }
        }
        command => {
            let loaded = Config::load(
                cli.global.config.as_deref(),
                &process_env,
                &cli.global.overrides(),
            );
            // Setting the PIN works on the file even when the config does not load
            // (a broken PIN hash is mended this way).
            if let Some(Cmd::Config {
                action: Some(action),
            }) = command
            {
                let _log = loaded.as_ref().ok().and_then(|c| {
                    till::logging::init(&c.data_dir.value, cli.global.verbose, c.log_limits())
                });
                return headless::config_file(&cli.global, action);
            }
            let config = match loaded {
                Ok(config) => config,
                Err(e) => return fail(e.into()),
            };
            let nowhere =
                command.as_ref().is_some_and(Cmd::only_reads) && !config.data_dir.value.exists();
            let _log = (!nowhere)
                .then(|| {
                    till::logging::init(
                        &config.data_dir.value,
                        cli.global.verbose,
                        config.log_limits(),
                    )
                })
                .flatten();
            match command {
                Some(command) => {
                    let args: Vec<String> = args
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect();
                    runtime.block_on(headless::run(&cli.global, &config, command, &args))
                }
                None => till::tui::run(&runtime, &cli, config),
            }
        }
    }
}

/// A command line clap would not take, or `--help` / `--version` (text on stdout and
/// exit 0, with `--json` or without). An error is clap's text on stderr and, under
/// `--json`, one JSON object on stdout; exit 2.
fn refused(e: &clap::Error, json: bool) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if json {
        let failure = Failure::new(Exit::Usage, headless::usage_message(e));
        println!("{}", till::visible::json_text(&failure_json(&failure)));
    }
    let _ = e.print();
    Exit::Usage.into()
}

/// Where the simulator advertises itself: it reads no config file, so the flag or the
/// environment, else loopback.
fn sim_interface(cli: &Cli) -> Result<std::net::Ipv4Addr, Failure> {
    match cli
        .global
        .mdns_interface
        .clone()
        .or_else(|| process_env("TILL_MDNS_INTERFACE"))
    {
        Some(text) => parse_interface(&text)
            .map_err(|e| Failure::new(Exit::Usage, format!("--mdns-interface {e}"))),
        None => Ok(DEFAULT_INTERFACE),
    }
}
