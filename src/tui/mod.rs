//! The cashier's screen: a ratatui loop that pairs the screens with the lane actor.
//! One `select!` over the keyboard, the lane's events, signals and a one-second tick
//! (only while something shows elapsed time); draw once per batch of changes, only
//! when something changed.

pub(crate) mod bigword;
pub(crate) mod desk;
pub(crate) mod dialogs;
pub mod field;
#[doc(hidden)]
// Sample data for the screen's tests and the render benchmark only.
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub(crate) mod flows;
pub mod model;
pub(crate) mod msg;
pub(crate) mod pairing;
#[cfg(test)]
mod proptests;
pub mod reads;
pub(crate) mod screens;
#[cfg(test)]
mod snapshots;
pub mod theme;
pub(crate) mod update;
pub mod view;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::Offset;
use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};

use crate::cli::Cli;
use crate::config::{Config, Overrides, Saved, default_config_path};
use crate::exit::Exit;
use crate::journal::Journal;
use crate::lane::{self, LaneHandle};
use crate::sim::{Faults, Sim, SimConfig};
use model::Model;
use pairing::PairingTask;
use reads::{read_candidates, read_data, read_journal};
use screens::settings;
use theme::Theme;
use update::{Effect, Msg, update};

pub fn run(runtime: &tokio::runtime::Runtime, cli: &Cli, config: Config) -> ExitCode {
    match runtime.block_on(run_async(cli, config)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("till: {}", crate::visible::visible_lines(&message));
            Exit::Unreachable.into()
        }
    }
}

/// Picks the theme: NO_COLOR and colourless terminals get the monochrome one.
fn theme_for(name: &str) -> (Theme, Option<String>) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let term = std::env::var("TERM").unwrap_or_default();
    let colourless = matches!(term.as_str(), "vt100" | "vt102" | "vt220" | "dumb");
    let (mut theme, warning) =
        Theme::load(name, user_themes_dir().as_deref(), no_color || colourless);
    theme.ascii = colourless;
    (theme, warning)
}

/// Where a user's own themes live: `themes/` beside the config file.
fn user_themes_dir() -> Option<std::path::PathBuf> {
    default_config_path().and_then(|p| p.parent().map(|d| d.join("themes")))
}

async fn run_async(cli: &Cli, mut config: Config) -> Result<ExitCode, String> {
    // The demo's terminal lives in this process; its journal is kept apart from a
    // real one so demo sales never mix with real money.
    let sim = if cli.demo {
        let sim = Sim::start(SimConfig {
            bind: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
            card_delay: Duration::from_millis(1500),
            faults: Faults {
                decline_cents: Some(51),
                ..Faults::default()
            },
            ledger: None,
            ping_every: Some(Duration::from_secs(60)),
            exponent: config.exponent(),
        })
        .await
        .map_err(|e| format!("cannot start the demo terminal: {e}"))?;
        config.url.value = Some(sim.url());
        if config.app_id.value.is_none() {
            config.app_id.value = Some("demo-app".into());
        }
        config.data_dir.value = config.data_dir.value.join("demo");
        Some(sim)
    } else {
        None
    };
    let link = config.link().map_err(|e| e.to_string())?;
    // The screen owns the lane while it is open; a command running on it is let finish.
    let wait = link.card_flow_timeout + link.request_timeout;
    let owner = tokio::select! {
        owner = crate::owner::take_lane(&config, "the cashier screen", wait) => {
            owner.map_err(|f| f.message)?
        }
        _ = tokio::signal::ctrl_c() => return Err("gave up waiting for the lane".into()),
    };
    let settings = config.lane_settings().map_err(|e| e.to_string())?;
    let (theme, warning) = theme_for(&config.theme.value);
    let mut model = Model::new(
        &config.lane.value,
        &config.currency.value,
        config.exponent(),
        &link.target.to_string(),
        cli.demo,
    );
    model.desk.notice = warning.or_else(|| Some(OPENING.into()));
    model.desk.utc_offset = chrono::Local::now().offset().fix();
    model.desk.confirm_above = Some(config.confirm_above());
    model.desk.cloud = config.cloud.is_configured();
    model.desk.supervisor = config.supervisor().map_err(|e| e.to_string())?;
    // What a check would say anyway; read here only to say it before a PIN is typed.
    model.desk.pin_locked_until = model
        .desk
        .supervisor
        .locked(chrono::Utc::now())
        .unwrap_or_else(|e| {
            tracing::warn!("{e}");
            None
        });
    model.settings.fields =
        settings::fields(&config, Theme::available(user_themes_dir().as_deref()));

    let _ = color_eyre::install();
    // Colours stay on under NO_COLOR: the monochrome theme already has none, and
    // crossterm would otherwise turn modifiers off along with them.
    crossterm::style::force_color_output(true);
    let mut terminal = ratatui::init();
    // The first frame goes up before the lane's task and the server start: their
    // threads would share the machine's cores with it.
    if let Ok(size) = terminal.size() {
        model.desk.size = (size.width, size.height);
    }
    let _ = terminal.draw(|frame| view::view(frame, &model, &theme));
    // The journal opens (a new one is made, an old one upgraded) behind the first
    // frame; the screen's own connection for its lists comes after the lane's, once
    // the file surely exists.
    let dir = config.data_dir.value.clone();
    let (reader_tx, reader) = oneshot::channel();
    let (handle, events, task) = lane::spawn_opening(settings, owner, move || {
        #[cfg(feature = "fixtures")]
        fixtures::hold_opening();
        // Either failing stops the lane before it takes anything from its queue.
        let (journal, reader) = Journal::open(&dir)
            .and_then(|journal| Ok((journal, Journal::open(&dir)?)))
            .map_err(|e| e.to_string())?;
        let _ = reader_tx.send(reader);
        Ok(journal)
    });
    // Every other till on the lane (a POS script's `till sale`) hands its work to this one.
    let (shared, events) =
        crate::owner::Shared::start(handle.clone(), events, link.target.to_string());
    let served = crate::owner::Served {
        config: config.clone(),
        run: crate::headless::handler(),
        reload: (!cli.demo).then(|| cli.global.clone()),
    };
    let server = crate::owner::listen(served, shared);

    let app = App {
        model,
        theme,
        lane: handle,
        events,
        task,
        reader,
        config,
        reload: (!cli.demo).then(|| {
            let (file, flags) = (cli.global.config.clone(), cli.global.overrides());
            Box::new(move || {
                Config::load(file.as_deref(), &crate::config::process_env, &flags)
                    .map_err(|e| e.to_string())
            }) as Box<dyn Fn() -> Result<Config, String>>
        }),
    };
    let result = app.run(&mut terminal).await;
    ratatui::restore();
    if let Some(server) = server {
        server.stop().await;
    }
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// What the screen says until the journal is open.
const OPENING: &str = "opening the journal…";

/// The screen's loop and what it owns: the model, the lane it talks to, the journal it
/// reads for its lists (still opening when the loop starts), and the config its
/// settings screen saves into.
struct App {
    model: Model,
    theme: Theme,
    lane: LaneHandle,
    events: mpsc::UnboundedReceiver<lane::Event>,
    task: tokio::task::JoinHandle<Result<(), String>>,
    reader: oneshot::Receiver<Journal>,
    config: Config,
    /// The config as it loads now, layered as at the start (None in the demo, whose
    /// terminal is its own): a change to the file applies without a restart.
    reload: Option<Box<dyn Fn() -> Result<Config, String>>>,
}

impl App {
    /// One `select!` over keys, lane events, effect results, signals and a tick: drain
    /// what is ready, then draw once, and only if something changed.
    async fn run(self, terminal: &mut ratatui::DefaultTerminal) -> Result<(), String> {
        let App {
            mut model,
            theme,
            lane,
            mut events,
            mut task,
            mut reader,
            config,
            reload,
        } = self;
        let m = &mut model;
        // The config file is looked at every few seconds; a change applies at once.
        let mut watch = tokio::time::interval(CONFIG_EVERY);
        watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut keys = EventStream::new();
        let (msg_tx, mut msgs) = mpsc::unbounded_channel::<Msg>();
        let mut hangup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
        let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        // The tick is polled only while something shows elapsed time: no burst of missed
        // ticks when it starts again.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let (mut lane_gone, mut joined) = (false, false);
        let mut opening = true;
        let mut copier = None;
        let mut world = World {
            stamp: config.file_stamp(),
            lane,
            tx: msg_tx,
            reader: None,
            // The lists are read as soon as the journal is open.
            unread: vec![Effect::Refresh],
            config,
            theme,
            store: Arc::new(tokio::sync::OnceCell::new()),
            pairing: None,
            quitting: false,
        };
        // `run_async` drew the first frame already.
        let mut dirty = false;
        loop {
            if dirty && !m.desk.hangup {
                // A gone terminal (SSH dropped) makes drawing fail; the lane goes on.
                let _ = terminal.draw(|frame| view::view(frame, m, &world.theme));
            }
            dirty = false;
            // A down link's retry is counted down too, and a tally's backlog.
            let ticking = m.desk.flight.is_some()
                || world.quitting
                || m.desk.link.retry_at.is_some()
                || m.desk.data.tallying.is_some();
            let msg = tokio::select! {
                key = keys.next(), if !m.desk.hangup => match key {
                    Some(Ok(TermEvent::Key(key))) => Msg::Key(key),
                    Some(Ok(TermEvent::Resize(w, h))) => Msg::Resize(w, h),
                    Some(Ok(_)) => continue,
                    // The keyboard is gone: treat it like a hang-up.
                    Some(Err(_)) | None => Msg::Hangup,
                },
                event = events.recv(), if !lane_gone => match event {
                    Some(event) => Msg::Lane(event),
                    // An answer that came while quitting stays up until a key.
                    None if m.desk.closing => { lane_gone = true; continue }
                    None => break,
                },
                Some(msg) = msgs.recv() => msg,
                opened = &mut reader, if opening => {
                    opening = false;
                    // Not opened: the lane's task ends with why.
                    if let Ok(journal) = opened {
                        if m.desk.notice.as_deref() == Some(OPENING) {
                            m.desk.notice = None;
                        }
                        world.opened(journal, m);
                        copier = store_copier(&world.config, world.tx.clone());
                    }
                    dirty = true;
                    continue
                }
                _ = hangup.recv() => Msg::Hangup,
                _ = terminate.recv() => Msg::Hangup,
                _ = tick.tick(), if ticking => Msg::Tick,
                _ = watch.tick(), if reload.is_some() => {
                    let now = world.config.file_stamp();
                    if now == world.stamp { continue }
                    world.stamp = now;
                    match reload.as_ref().map(|load| load()) {
                        Some(Ok(new)) => {
                            if let Some(theme) = apply_config(m, &new, &world.lane).await {
                                world.theme = theme;
                            }
                            world.config = new;
                        }
                        Some(Err(e)) => {
                            m.desk.notice = Some(format!("the config file changed but does not load: {e}; the screen keeps what it had"));
                        }
                        None => {}
                    }
                    dirty = true;
                    continue
                }
                ended = &mut task, if !lane_gone => {
                    (lane_gone, joined) = (true, true);
                    match ended {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return Err(e),
                        Err(e) => return Err(format!("the lane stopped unexpectedly: {e}")),
                    }
                    // Its last words (the answer, then Stopped) may still be on their
                    // way through the owner's forwarder, a task of its own: read them
                    // up to Stopped, unless it came already.
                    let until = tokio::time::Instant::now() + LAST_WORDS;
                    while !m.desk.closing
                        && let Ok(Some(event)) = tokio::time::timeout_at(until, events.recv()).await
                    {
                        let stopped = matches!(event, lane::Event::Stopped);
                        drop(update(m, Msg::Lane(event)));
                        if stopped {
                            break;
                        }
                    }
                    if m.desk.closing {
                        dirty = true;
                        continue;
                    }
                    break;
                }
            };
            let mut effects = update(m, msg);
            // Drain what is ready before drawing once.
            while let Ok(event) = events.try_recv() {
                effects.extend(update(m, Msg::Lane(event)));
            }
            dirty = true;
            for effect in effects {
                world.run(effect, m).await;
            }
            if m.desk.quit {
                break;
            }
        }
        // A journal that did not open ends the lane's task with why.
        if !joined && let Ok(Err(e)) = task.await {
            return Err(e);
        }
        if let Some(copier) = copier {
            copier.abort();
        }
        Ok(())
    }
}

/// What the effects act on, and the one place that runs them: the lane, the journal
/// read for the lists, the config the Settings screen saves into, the store, the
/// pairing server.
struct World {
    lane: LaneHandle,
    tx: mpsc::UnboundedSender<Msg>,
    /// None while the journal opens.
    reader: Option<Journal>,
    /// The reads asked for while the journal opens, in order.
    unread: Vec<Effect>,
    config: Config,
    /// When the config file was last written, as this screen knows it.
    stamp: Option<(std::time::SystemTime, u64)>,
    theme: Theme,
    /// The store the journal search also asks, connected on first use.
    store: Arc<tokio::sync::OnceCell<crate::store::Store>>,
    /// The Settings screen's pairing server, while it runs.
    pairing: Option<PairingTask>,
    /// Quit was asked: the lane is shutting down.
    quitting: bool,
}

impl World {
    /// Runs one effect: lane requests and slow looks in small tasks that report back as
    /// messages; journal reads right here (they are quick).
    async fn run(&mut self, effect: Effect, m: &mut Model) {
        let (lane, tx) = (self.lane.clone(), self.tx.clone());
        match effect {
            Effect::Quit => {
                if !self.quitting {
                    self.quitting = true;
                    m.desk.notice = Some("quitting once the terminal has answered…".into());
                    self.lane.shutdown().await;
                }
            }
            Effect::SaveSettings(values) => self.save(m, &values).await,
            Effect::Pay(req) => {
                let route = m.desk.route();
                drop(tokio::spawn(async move {
                    let _ = tx.send(Msg::Paid(lane.pay_routed(req, route, false).await));
                }))
            }
            Effect::PaySupervised(req) => {
                let route = m.desk.route();
                drop(tokio::spawn(async move {
                    let _ = tx.send(Msg::Paid(lane.pay_routed(req, route, true).await));
                }))
            }
            Effect::Query(order) => {
                let via = m.desk.route().via();
                drop(tokio::spawn(async move {
                    let _ = tx.send(Msg::Queried(Box::new(lane.query_via(order, via).await)));
                }))
            }
            Effect::Close(order) => drop(tokio::spawn(async move {
                let _ = tx.send(Msg::Closed(lane.close_order(order).await));
            })),
            Effect::Reconnect => drop(tokio::spawn(async move { lane.reconnect().await })),
            Effect::Retarget(target) => self.retarget(target),
            Effect::Raw(text) => drop(tokio::spawn(async move {
                let _ = tx.send(Msg::RawSent(lane.raw(text).await));
            })),
            Effect::Resolve { order_no, to, note } => drop(tokio::spawn(async move {
                let _ = tx.send(Msg::Resolved(lane.resolve(order_no, to, note).await));
            })),
            Effect::Lookup(_)
            | Effect::LoadAudit(_)
            | Effect::ShowRow(_)
            | Effect::Candidates
            | Effect::Search
            | Effect::Refresh => self.read(effect, m),
            Effect::CheckPin(pin) => {
                // Checked and counted where every process taking this PIN sees it; it may
                // wait for the others, so not on the loop.
                let policy = m.desk.supervisor.clone();
                drop(tokio::task::spawn_blocking(move || {
                    let checked = policy.check(&pin.0, chrono::Utc::now());
                    let _ = tx.send(Msg::PinChecked(checked.map_err(|e| e.to_string())));
                }))
            }
            Effect::Checkup => {
                let target = reach_target(&self.config, m);
                tokio::spawn(async move {
                    let mut steps = Vec::new();
                    crate::terminal_reach::check(&target, &mut steps).await;
                    let at = chrono::Local::now().format("%H:%M:%S").to_string();
                    let _ = tx.send(Msg::Checkup { steps, at });
                });
            }
            Effect::StartPairing => {
                self.pairing = Some(PairingTask::start(
                    self.config.mdns_interface(),
                    crate::pair::default_name(&self.config.lane.value),
                    self.config.save_path(),
                    tx,
                ));
            }
            Effect::StopPairing => self.pairing = None,
            Effect::AnswerPair(accept) => {
                if let Some(pairing) = &self.pairing {
                    pairing.answer(accept);
                }
            }
            Effect::FindTerminals => {
                let interface = self.config.mdns_interface();
                tokio::spawn(async move {
                    let found = crate::discover::terminals(interface, FIND_WAIT).await;
                    let _ = tx.send(Msg::Terminals(found.map_err(|e| e.to_string())));
                });
            }
        }
    }

    /// A read of the journal for the screen's lists; one asked for while the journal
    /// opens waits for it (the lane's requests wait in the lane's own queue).
    fn read(&mut self, effect: Effect, m: &Model) {
        let Some(reader) = &self.reader else {
            self.unread.push(effect);
            return;
        };
        let tx = &self.tx;
        match effect {
            Effect::Lookup(order) => {
                let found = reads::read_original(reader, m, &order);
                let _ = tx.send(Msg::Found(Box::new(found)));
            }
            Effect::LoadAudit(order) => {
                let rows = reader.audit(&order).unwrap_or_default();
                let _ = tx.send(Msg::Audit(rows));
            }
            Effect::ShowRow(order) => {
                let row = reader.find(&order).ok().flatten();
                let _ = tx.send(Msg::Row(Box::new(row)));
            }
            Effect::Candidates => {
                let (refundable, completable) = read_candidates(reader, m);
                let _ = tx.send(Msg::Candidates {
                    refundable,
                    completable,
                });
            }
            Effect::Search => {
                ask_the_store(&self.config, &self.store, m, tx);
                let _ = tx.send(Msg::Journal(Box::new(read_journal(reader, m))));
            }
            Effect::Refresh => {
                let _ = tx.send(Msg::Data(Box::new(read_data(reader, m))));
            }
            _ => {}
        }
    }

    /// The journal is open: the reads that waited for it run now, in order.
    fn opened(&mut self, reader: Journal, m: &Model) {
        self.reader = Some(reader);
        for effect in std::mem::take(&mut self.unread) {
            self.read(effect, m);
        }
    }

    /// The lane moves to another terminal; what it says comes back as `Msg::Retargeted`.
    fn retarget(&self, target: lane::Target) {
        let (lane, tx) = (self.lane.clone(), self.tx.clone());
        drop(tokio::spawn(async move {
            let _ = tx.send(Msg::Retargeted(lane.retarget(target).await));
        }))
    }

    /// Writes the Settings screen's changed values into the config file; what a sale
    /// reads as it starts applies at once, and a new url moves the lane; what the lane
    /// was started with otherwise, on the next start.
    async fn save(&mut self, m: &mut Model, values: &[(&'static str, Saved)]) {
        match save_settings(&self.config, values) {
            Ok(saved) => {
                settings::saved(&mut m.settings, values);
                // Its own save is no news to the watch.
                self.stamp = self.config.file_stamp();
                let (picked, warning) = theme_for(&saved.theme.value);
                self.theme = picked;
                self.lane.set_sale_defaults(saved.sale_options()).await;
                m.desk.confirm_above = Some(saved.confirm_above());
                m.desk.notice = Some(warning.unwrap_or_else(|| {
                    format!(
                        "saved to {}; the url, theme, confirm_above and the terminal options apply now, the rest on the next start",
                        saved.file.as_deref().unwrap_or(Path::new("?")).display()
                    )
                }));
                let url_changed = values.iter().any(|(k, _)| *k == "url");
                if let Some(target) = moved_to(&saved, m).filter(|_| url_changed) {
                    self.retarget(target);
                }
            }
            Err(e) => m.desk.notice = Some(e),
        }
    }
}

/// How often the screen looks whether its config file changed.
const CONFIG_EVERY: Duration = Duration::from_secs(2);

/// How long a stopped lane's last events may take to come through the owner's
/// forwarder.
const LAST_WORDS: Duration = Duration::from_secs(2);

/// A config that changed on disk applies now: the supervisor PIN and its rules,
/// confirm_above, the cloud, the terminal options, the theme (returned when it loads)
/// and the Settings screen's values (unless the cashier is editing them). The lane
/// stays on its terminal: a new url applies when saved on the Settings screen.
async fn apply_config(m: &mut Model, new: &Config, lane: &LaneHandle) -> Option<Theme> {
    match new.supervisor() {
        Ok(policy) => m.desk.supervisor = policy,
        Err(e) => m.desk.notice = Some(e.to_string()),
    }
    m.desk.confirm_above = Some(new.confirm_above());
    m.desk.cloud = new.cloud.is_configured();
    lane.set_sale_defaults(new.sale_options()).await;
    let themes = Theme::available(user_themes_dir().as_deref());
    settings::config_changed(&mut m.settings, settings::fields(new, themes));
    m.desk.notice = Some("the config file changed: its settings apply now".into());
    let (theme, warning) = theme_for(&new.theme.value);
    if warning.is_some() {
        m.desk.notice = warning;
    }
    Some(theme)
}

/// With a store configured, the journal search also asks it, for rows of other lanes
/// (a receipt from another lane): the answer comes back as `Msg::Elsewhere`.
fn ask_the_store(
    config: &Config,
    store: &Arc<tokio::sync::OnceCell<crate::store::Store>>,
    m: &Model,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let search = screens::journal::search(&m.journal, &m.desk);
    let Some(url) = config
        .store_url
        .value
        .as_deref()
        .and_then(|u| crate::store::StoreUrl::parse(u).ok())
    else {
        return;
    };
    if search.text.trim().is_empty() {
        return;
    }
    let (store, tx, lane) = (store.clone(), tx.clone(), m.desk.lane_id.clone());
    tokio::spawn(async move {
        let found = async {
            let store = store
                .get_or_try_init(|| crate::store::Store::open(&url))
                .await
                .map_err(|e| e.to_string())?;
            store
                .find(&search.text, search.exponent, search.utc_offset_secs, 20)
                .await
                .map_err(|e| e.to_string())
        }
        .await
        .map(|rows| rows.into_iter().filter(|r| r.lane != lane).collect());
        let _ = tx.send(Msg::Elsewhere {
            text: search.text,
            found,
        });
    });
}

/// How often the screen copies the lane's changes to the store.
const STORE_EVERY: Duration = Duration::from_secs(5);

/// With a store configured, copies the lane's outbox there in the background, on a
/// journal connection of its own: the lane never waits for it, and what it says goes to
/// Diagnostics. Killed with the screen, it loses nothing: the outbox keeps what it had
/// not copied.
fn store_copier(
    config: &Config,
    tx: mpsc::UnboundedSender<Msg>,
) -> Option<tokio::task::JoinHandle<()>> {
    let url = crate::store::StoreUrl::parse(config.store_url.value.as_deref()?).ok()?;
    let (dir, lane) = (config.data_dir.value.clone(), config.lane.value.clone());
    Some(tokio::spawn(async move {
        let mut store = None;
        let mut journal = None;
        loop {
            let said = async {
                if journal.is_none() {
                    journal = Some(Journal::open(&dir).map_err(|e| e.to_string())?);
                }
                if store.is_none() {
                    store = Some(
                        crate::store::Store::open(&url)
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                }
                match (&store, &mut journal) {
                    (Some(store), Some(journal)) => crate::store::sync(store, journal, &lane)
                        .await
                        .map_err(|e| e.to_string()),
                    _ => Err("no store".to_string()),
                }
            }
            .await;
            let text = match said {
                Ok(s) => format!(
                    "copied at {}, {} changes waiting",
                    chrono::Local::now().format("%H:%M:%S"),
                    s.left
                ),
                Err(e) => {
                    format!("not copied: {e} (the lane goes on; the outbox keeps every change)")
                }
            };
            if tx.send(Msg::Store(text)).is_err() {
                return;
            }
            tokio::time::sleep(STORE_EVERY).await;
        }
    }))
}

/// How long the Settings screen listens for terminals (as `till discover` does).
const FIND_WAIT: Duration = Duration::from_secs(3);

/// What the check-up looks at: the terminal the lane talks to now, which Settings may
/// have changed since the start.
fn reach_target(config: &Config, m: &Model) -> crate::terminal_reach::Reach {
    let mut reach = config.terminal_reach();
    let configured = reach
        .url
        .as_deref()
        .and_then(|u| lane::Target::parse(u).ok());
    if configured.is_none_or(|t| t.to_string() != m.desk.link.target) {
        reach.url = Some(m.desk.link.target.clone());
        reach.source = "saved on the Settings screen".into();
    }
    reach
}

/// The terminal a saved config names, when it is not the one the lane talks to.
fn moved_to(saved: &Config, m: &Model) -> Option<lane::Target> {
    let url = saved.url.value.as_deref()?;
    let target = lane::Target::parse(url).ok()?;
    (target.to_string() != m.desk.link.target).then_some(target)
}

/// Writes the settings screen's values into the config file, keeping other keys, and
/// reads the file back: its settings are what applies now.
fn save_settings(config: &Config, values: &[(&str, Saved)]) -> Result<Config, String> {
    let path = config.save_path().ok_or("no config directory to save to")?;
    crate::config::save_keys(&path, values).map_err(|e| format!("not saved: {e}"))?;
    Config::load(Some(&path), &|_| None, &Overrides::default())
        .map_err(|e| format!("saved, but the file does not load: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FileConfig;
    use crate::ecr::Receipts;

    #[test]
    fn settings_are_saved_into_the_config_file_keeping_other_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "heartbeat_secs = 7\nurl = \"10.0.0.1\"\n").unwrap();
        let config = Config::load(Some(&file), &|_| None, &Overrides::default()).unwrap();
        let saved = save_settings(
            &config,
            &[
                ("url", Saved::Text("10.0.0.9".into())),
                ("app_id", Saved::Unset),
                ("lane", Saved::Text("L07".into())),
                ("on_screen_tip", Saved::Flag(false)),
                ("receipt", Saved::Text("merchant".into())),
            ],
        )
        .expect("saved");
        assert_eq!(saved.sale_options().tip_on_terminal, Some(false));
        assert_eq!(saved.sale_options().receipts, Some(Receipts::Merchant));
        let text = std::fs::read_to_string(&file).unwrap();
        let saved: FileConfig = toml::from_str(&text).unwrap();
        assert_eq!(saved.url.as_deref(), Some("10.0.0.9"));
        assert_eq!(saved.lane.as_deref(), Some("L07"));
        assert_eq!(saved.heartbeat_secs, Some(7));
        assert_eq!(saved.app_id, None);

        // A bad value is refused with the loader's words, and the file is kept.
        let err = save_settings(&config, &[("currency", Saved::Text("EURO".into()))])
            .expect_err("refused");
        assert!(err.contains("currency"), "{err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    }
}
