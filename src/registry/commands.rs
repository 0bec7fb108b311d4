//! A subscribed client's commands on its channel: RDY, CLS, FIN, REQ and TOUCH. Each
//! marks the channel's topic for the next pump.

use super::channel::{Channel, InFlightError};
use super::{ClientId, Registry};
use crate::proto::{ClientState, MessageId};
use std::time::{Duration, Instant};

impl Registry {
    /// RDY: sets the client's window.
    pub fn rdy(&mut self, client: ClientId, count: u64) {
        self.with_channel(client, |ch| {
            if let Some(c) = ch.consumer_mut(client) {
                c.rdy = count;
            }
            Ok::<(), InFlightError>(())
        })
        .ok();
    }

    /// CLS: the client gets no more messages.
    pub fn close_wait(&mut self, client: ClientId) {
        self.rdy(client, 0);
        if let Some(c) = self.clients.get_mut(&client) {
            c.state = ClientState::Closing;
        }
    }

    /// FIN.
    pub fn finish(&mut self, client: ClientId, id: &MessageId) -> Result<(), InFlightError> {
        self.with_channel(client, |ch| ch.finish(client, id))
    }

    /// REQ with an already clamped delay.
    pub fn requeue(
        &mut self,
        client: ClientId,
        id: &MessageId,
        delay: Duration,
        now: Instant,
    ) -> Result<(), InFlightError> {
        self.with_channel(client, |ch| ch.requeue(client, id, delay, now))?;
        if !delay.is_zero() {
            self.lower_deadline(Some(now + delay));
        }
        Ok(())
    }

    /// TOUCH.
    pub fn touch(
        &mut self,
        client: ClientId,
        id: &MessageId,
        now: Instant,
    ) -> Result<(), InFlightError> {
        let max = self.config.max_msg_timeout;
        self.with_channel(client, |ch| ch.touch(client, id, now, max))
    }

    /// Runs `f` on the client's channel and marks its topic for pumping.
    pub(super) fn with_channel<T>(
        &mut self,
        client: ClientId,
        f: impl FnOnce(&mut Channel) -> Result<T, InFlightError>,
    ) -> Result<T, InFlightError> {
        let Some((t, c)) = self
            .clients
            .get(&client)
            .and_then(|info| info.subscription.as_ref())
        else {
            return Err(InFlightError::NotInFlight);
        };
        let Some(topic) = self.topics.get_mut(t) else {
            return Err(InFlightError::NotInFlight);
        };
        let Some(channel) = topic.channels.get_mut(c) else {
            return Err(InFlightError::NotInFlight);
        };
        let result = f(channel);
        Self::mark_dirty(&mut self.dirty, topic);
        result
    }
}
