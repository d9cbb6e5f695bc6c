//! Mutual TLS between the nodes of a region. Every node holds a certificate
//! signed by the region CA for the name `NODE_TLS_NAME`; servers ask for a
//! client certificate and every service except `Cluster.Join` refuses a
//! caller without one (`services::require_peer`). Clients verify servers
//! against the same CA, so a machine outside the region can neither call
//! nor impersonate a node.

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};
use zeroize::Zeroizing;

/// The DNS name in every node certificate; clients check it whatever
/// address they dialled, since addresses change and the CA is the trust.
pub const NODE_TLS_NAME: &str = "coffer-node";

/// This node's certificate and key, and the region CA certificate.
#[derive(Clone)]
pub struct NodeIdentity {
    pub ca_cert_pem: String,
    pub cert_pem: String,
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeIdentity").finish_non_exhaustive()
    }
}

impl NodeIdentity {
    pub(crate) fn server_config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.cert_pem, self.key_pem.as_bytes()))
            .client_ca_root(Certificate::from_pem(&self.ca_cert_pem))
            // Join callers have no certificate yet; every other service
            // checks for one.
            .client_auth_optional(true)
    }

    pub(crate) fn client_config(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_cert_pem))
            .identity(Identity::from_pem(&self.cert_pem, self.key_pem.as_bytes()))
            .domain_name(NODE_TLS_NAME)
    }
}

/// A joining node trusts the CA from its token and has no identity yet.
pub(crate) fn join_client_config(ca_cert_pem: &str) -> ClientTlsConfig {
    ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_cert_pem))
        .domain_name(NODE_TLS_NAME)
}
