//! The cloud gateway: which terminal a request names, sending it, its answer.

use super::Actor;
use crate::cloud::{CloudClient, Terminal};
use crate::ecr::Operation;
use crate::lane::command::{Event, LinkNews, Route};
use crate::link::{Answer, Direction};
use crate::mask::mask_frame;

impl Actor {
    fn cloud_client(&self) -> Result<&CloudClient, String> {
        match &self.cloud {
            Ok(Some(client)) => Ok(client),
            Ok(None) => {
                Err("the cloud is not configured: add a [cloud] table to the config file".into())
            }
            Err(why) => Err(why.clone()),
        }
    }

    /// The terminal a cloud request names: the configured serial, else the one the
    /// terminal reported over the LAN.
    pub(super) fn cloud_terminal(&self, route: Route) -> Result<Terminal, String> {
        let client = self.cloud_client()?;
        if route == Route::CloudAllTerminals {
            return Ok(Terminal::All);
        }
        client
            .settings()
            .terminal_sn
            .clone()
            .or_else(|| self.device_sn.clone())
            .map(Terminal::One)
            .ok_or_else(|| {
                "no terminal serial for the cloud: set [cloud] terminal_sn, or connect to the terminal once so it reports its own".into()
            })
    }

    /// Signs and posts a request to the gateway; its answer comes back through
    /// `cloud_calls` under `request_id`.
    pub(super) fn cloud_send(
        &mut self,
        op: &Operation,
        terminal: &Terminal,
        request_id: &str,
    ) -> Result<(), String> {
        let client = self.cloud_client()?.clone();
        let prepared = client.prepare(op, terminal)?;
        tracing::info!(method = %prepared.call.method, order_no = ?prepared.call.order_no, "cloud request");
        self.emit(Event::Link(LinkNews::Wire {
            dir: Direction::Out,
            text: mask_frame(&prepared.body),
        }));
        self.cloud_calls
            .spawn(client.send(prepared, request_id.to_string()));
        Ok(())
    }

    pub(super) fn on_cloud_answer(&mut self, answer: Answer) {
        tracing::info!(outcome = %answer.outcome, why = %mask_frame(&answer.why), "cloud answer");
        if let Some(raw) = &answer.raw {
            self.emit(Event::Link(LinkNews::Wire {
                dir: Direction::In,
                text: raw.clone(),
            }));
        }
        self.on_answer(answer);
    }
}
