//! One gRPC channel per peer address, created lazily and kept: tonic
//! reconnects a channel by itself after its peer comes back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

/// Time to open a TCP + TLS connection to a peer.
const CONNECT_TIMEOUT_MS: u64 = 2_000;
/// HTTP/2 pings find a dead peer on an idle connection.
const KEEPALIVE_INTERVAL_MS: u64 = 5_000;
const KEEPALIVE_TIMEOUT_MS: u64 = 5_000;
/// Distinct peer addresses remembered (a region has at most a handful).
const CHANNELS_MAX: usize = 256;

pub(crate) struct Peers {
    tls: ClientTlsConfig,
    channels: Mutex<HashMap<String, Channel>>,
}

impl Peers {
    pub(crate) fn new(tls: ClientTlsConfig) -> Self {
        Self {
            tls,
            channels: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn channel(&self, address: &str) -> Result<Channel, tonic::Status> {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(channel) = channels.get(address) {
            return Ok(channel.clone());
        }
        let channel = connect_lazy(address, self.tls.clone())?;
        if channels.len() >= CHANNELS_MAX {
            channels.clear();
        }
        channels.insert(address.to_owned(), channel.clone());
        Ok(channel)
    }
}

pub(crate) fn connect_lazy(address: &str, tls: ClientTlsConfig) -> Result<Channel, tonic::Status> {
    let endpoint = Endpoint::from_shared(format!("https://{address}"))
        .map_err(|error| {
            tonic::Status::invalid_argument(format!("peer address {address:?}: {error}"))
        })?
        .tls_config(tls)
        .map_err(|error| tonic::Status::internal(format!("TLS config: {error}")))?
        .connect_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
        .http2_keep_alive_interval(Duration::from_millis(KEEPALIVE_INTERVAL_MS))
        .keep_alive_timeout(Duration::from_millis(KEEPALIVE_TIMEOUT_MS))
        .keep_alive_while_idle(true)
        .tcp_nodelay(true);
    Ok(endpoint.connect_lazy())
}
