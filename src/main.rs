use std::process::ExitCode;

use clap::Parser;

use till::cli::{Cli, Cmd};
use till::config::{Config, process_env};
use till::headless::{self, Exit};

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("till: cannot start the async runtime: {e}");
            return Exit::Unreachable.into();
        }
    };
    match cli.command.take() {
        Some(Cmd::Sim(args)) => match runtime.block_on(till::sim::run(args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("till sim: {e}");
                Exit::Unreachable.into()
            }
        },
        command => {
            let config = match Config::load(
                cli.global.config.as_deref(),
                &process_env,
                &cli.global.overrides(),
            ) {
                Ok(config) => config,
                Err(e) => {
                    eprintln!("till: {e}");
                    return Exit::Unreachable.into();
                }
            };
            let _log = till::logging::init(&config.data_dir.value, cli.global.verbose);
            match command {
                Some(command) => runtime.block_on(headless::run(&cli.global, &config, command)),
                None => till::tui::run(&runtime, &cli, config),
            }
        }
    }
}
