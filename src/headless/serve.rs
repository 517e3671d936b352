//! `till serve`: the lane's owner without a screen, for a register run by POS software
//! only. It holds the lane, keeps the link to the terminal and settles what is
//! unresolved, as the screen does, and serves every other till on the lane until a
//! signal stops it; a change to the config file applies without a restart.

use std::time::Duration;

use super::signals::Signals;
use super::{BRIEF_LANE_WAIT, open_journal};
use crate::cli::Global;
use crate::config::{Config, process_env};
use crate::exit::{Exit, Failure, Report, to_stderr};
use crate::lane::{self, Event, LinkNews};
use crate::owner::take_lane;
use crate::owner::{self, Served, Shared};

/// How often the config file is looked at.
const CONFIG_EVERY: Duration = Duration::from_secs(2);

pub(super) async fn serve(global: &Global, config: &Config) -> Result<Report, Failure> {
    let mut signals = Signals::install()
        .map_err(|e| Failure::new(Exit::Unreachable, format!("cannot catch signals: {e}")))?;
    let owner = take_lane(config, "till serve", BRIEF_LANE_WAIT).await?;
    let journal = open_journal(config)?;
    let settings = config.lane_settings()?;
    let target = settings.link.target.to_string();
    let (lane, events, task) = lane::spawn(settings, journal, owner);
    let (shared, mut events) = Shared::start(lane.clone(), events, target);
    let served = Served {
        config: config.clone(),
        run: super::handler(),
        reload: Some(global.clone()),
    };
    let Some(server) = owner::listen(served, shared) else {
        lane.shutdown().await;
        let _ = task.await;
        return Err(Failure::new(
            Exit::Unreachable,
            "cannot listen on the lane's socket (see the log): nothing to serve",
        ));
    };
    let lane_id = config.lane.value.to_ascii_uppercase();
    to_stderr(format_args!(
        "till: serving lane {lane_id} until SIGTERM or Ctrl-C\n"
    ));
    let mut stamp = config.file_stamp();
    let mut watch = tokio::time::interval(CONFIG_EVERY);
    let stopped_by = loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Link(news)) => say_link(&news),
                Some(_) => {}
                None => break "the lane stopping",
            },
            signal = signals.next() => break signal,
            _ = watch.tick() => {
                let now = config.file_stamp();
                if now != stamp {
                    stamp = now;
                    reload(global, &lane).await;
                }
            }
        }
    };
    to_stderr(format_args!(
        "till: {stopped_by}: finishing what was handed over, then stopping\n"
    ));
    server.stop().await;
    lane.shutdown().await;
    drop(events);
    let _ = task.await;
    Ok(Report::printed(Exit::Ok))
}

/// The config file changed: the terminal options apply to payments from now on; the
/// PIN and the rules already apply to each request as it comes (it reads the file).
async fn reload(global: &Global, lane: &lane::LaneHandle) {
    match Config::load(global.config.as_deref(), &process_env, &global.overrides()) {
        Ok(new) => {
            lane.set_sale_defaults(new.sale_options()).await;
            to_stderr(format_args!(
                "till: the config file changed: it applies now (a new url or lane after a restart)\n"
            ));
        }
        Err(e) => to_stderr(format_args!(
            "till: the config file changed but does not load: {e}; keeping what was loaded\n"
        )),
    }
}

fn say_link(news: &LinkNews) {
    match news {
        LinkNews::Connected => to_stderr(format_args!("till: terminal connected\n")),
        LinkNews::Down { reason, retry_in } => to_stderr(format_args!(
            "till: terminal unreachable ({reason}); trying again in {}s\n",
            retry_in.as_secs()
        )),
        _ => {}
    }
}
