//! The owner's side: the lane's socket, one task per till that asks.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use super::shared::Shared;
use super::socket_path;
use super::wire::{Ask, Line};
use crate::cli::Global;
use crate::config::{Config, process_env};
use crate::exit::{Exit, Failure, Report};
use crate::lane::LaneOwner;

/// An `Ask` is one line of a command line and a PIN: anything longer is not one.
const ASK_LIMIT: u64 = 64 * 1024;

/// What the owner does with a request handed over: run the command as the faces do
/// (they are above this room, so the one who listens hands it in).
pub(crate) type Handler = Arc<
    dyn Fn(
            Config,
            Ask,
            Shared,
            mpsc::UnboundedSender<String>,
        ) -> BoxFuture<'static, Result<Report, Failure>>
        + Send
        + Sync,
>;

/// The config the owner serves requests under, and how it runs them.
#[derive(Clone)]
pub struct Served {
    pub config: Config,
    pub run: Handler,
    /// The flags the owner started with: each request reads the config file again
    /// with them, so a change (a new PIN, new terminal options) applies at once. None
    /// keeps `config` as it is (the demo's).
    pub reload: Option<Global>,
}

impl Served {
    /// The config now, on this lane and data dir whatever the file says of them.
    fn now(&self) -> Config {
        let Some(global) = &self.reload else {
            return self.config.clone();
        };
        match Config::load(global.config.as_deref(), &process_env, &global.overrides()) {
            Ok(mut config) => {
                config.data_dir = self.config.data_dir.clone();
                config.lane = self.config.lane.clone();
                config
            }
            Err(e) => {
                tracing::warn!("the config does not load ({e}): served with the one before");
                self.config.clone()
            }
        }
    }
}

/// The lane's socket while this process owns the lane.
pub struct Server {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    /// Takes no more requests (the socket goes) and lets those taken finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listens on the lane's socket; the caller holds the lane. A socket left by an owner
/// that was killed is replaced. None when it cannot listen (logged): the lane works as
/// before, others wait for it.
pub fn listen(served: Served, shared: Shared) -> Option<Server> {
    let (dir, lane) = (&served.config.data_dir.value, &served.config.lane.value);
    let path = socket_path(dir, lane);
    let _ = std::fs::remove_file(&path);
    let bound = UnixListener::bind(&path).and_then(|listener| {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        // The socket is this process's: its owner is the uid every peer must have.
        let uid = std::fs::metadata(&path)?.uid();
        Ok((listener, uid))
    });
    let (listener, uid) = match bound {
        Ok(bound) => bound,
        Err(e) => {
            tracing::warn!(
                "cannot listen on {}: {e}; other tills wait for the lane",
                path.display()
            );
            let _ = std::fs::remove_file(&path);
            return None;
        }
    };
    tracing::info!("serving lane {lane} on {}", path.display());
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(accept(
        listener,
        path,
        uid,
        Arc::new(served),
        shared,
        stopped,
    ));
    Some(Server {
        stop: Some(stop),
        task,
    })
}

async fn accept(
    listener: UnixListener,
    path: PathBuf,
    uid: u32,
    served: Arc<Served>,
    shared: Shared,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut asking = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    asking.spawn(serve_one(stream, uid, served.clone(), shared.clone()));
                }
                Err(e) => {
                    tracing::warn!("lane socket: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            Some(_) = asking.join_next(), if !asking.is_empty() => {}
        }
    }
    // Still the lane's owner here: the socket is ours to remove.
    drop(listener);
    let _ = std::fs::remove_file(&path);
    while asking.join_next().await.is_some() {}
}

/// The peer's uid, when it is `owner`'s: a till of another user is refused.
pub(super) fn check_peer(stream: &UnixStream, owner: u32) -> Result<u32, String> {
    let peer = stream
        .peer_cred()
        .map_err(|e| format!("cannot tell who is asking: {e}"))?
        .uid();
    if peer != owner {
        return Err(format!(
            "refused: uid {peer} is not the lane owner's (uid {owner}); nothing was done"
        ));
    }
    Ok(peer)
}

async fn serve_one(stream: UnixStream, uid: u32, served: Arc<Served>, shared: Shared) {
    let checked = check_peer(&stream, uid);
    let (read, mut write) = stream.into_split();
    if let Err(why) = checked {
        tracing::warn!("lane socket: {why}");
        let failure = Failure::new(Exit::Unreachable, why);
        let _ = write
            .write_all(Line::of(Err(failure)).text().as_bytes())
            .await;
        return;
    }
    let mut lines = BufReader::new(read.take(ASK_LIMIT)).lines();
    let ask = match lines.next_line().await {
        Ok(Some(line)) => serde_json::from_str::<Ask>(&line).map_err(|e| e.to_string()),
        Ok(None) => return,
        Err(e) => Err(e.to_string()),
    };
    let ask = match ask {
        Ok(ask) => ask,
        Err(why) => {
            let failure = Failure::new(Exit::Usage, format!("not a request: {why}"));
            let _ = write
                .write_all(Line::of(Err(failure)).text().as_bytes())
                .await;
            return;
        }
    };
    let config = served.now();
    let holder = LaneOwner::holder(&config.data_dir.value, &config.lane.value)
        .unwrap_or_else(|| "this till".into());
    let mut write = say(Some(write), &Line::Accepted { holder }).await;
    let go = matches!(
        lines.next_line().await,
        Ok(Some(line)) if serde_json::from_str::<Line>(&line).ok() == Some(Line::Go)
    );
    if !go {
        tracing::info!(who = %ask.who, "a till went away before its request was taken: nothing was done");
        return;
    }
    tracing::info!(who = %ask.who, "a request handed over");
    let (progress, mut said) = mpsc::unbounded_channel();
    // Progress goes out as it comes; a till that went away stops hearing it, and its
    // request goes on.
    let writer = tokio::spawn(async move {
        while let Some(text) = said.recv().await {
            write = say(write, &Line::Progress { text }).await;
        }
        write
    });
    let result = (served.run)(config, ask, shared, progress).await;
    if let Ok(write) = writer.await {
        say(write, &Line::of(result)).await;
    }
}

/// Writes one line; None once the till that asked is gone.
async fn say(write: Option<OwnedWriteHalf>, line: &Line) -> Option<OwnedWriteHalf> {
    let mut write = write?;
    write.write_all(line.text().as_bytes()).await.ok()?;
    Some(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_peer_of_another_uid_is_refused() {
        let (mine, _other) = UnixStream::pair().unwrap();
        let me = mine.peer_cred().unwrap().uid();
        assert_eq!(check_peer(&mine, me), Ok(me));
        let refused = check_peer(&mine, me.wrapping_add(1)).unwrap_err();
        assert!(refused.contains(&format!("uid {me} is not")), "{refused}");
    }
}
