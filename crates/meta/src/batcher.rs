//! Group commit. openraft 0.9 writes each `client_write` as its own log
//! append and waits for that append's fsync before the next one, so one
//! command per entry would cost one fsync each (≈600/s on these disks,
//! DESIGN §4). Instead every proposal goes through one queue; a single task
//! takes everything queued (bounded in count and bytes), proposes it as one
//! `CommandBatch` log entry — one append, one fsync — and hands each caller
//! its own result. While one batch is being committed the next one fills up,
//! so the batch size follows the load and a lone proposal waits for nothing.

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use std::sync::Arc;
use std::time::Duration;

use crate::cluster::{LeaderLink, PROPOSE_TIMEOUT_MS};
use crate::model::{Command, CommandResult};
use crate::raft_types::{NodeId, Raft};
use crate::MetaError;

/// Proposals waiting for the batcher; a full queue makes `propose` wait.
const PROPOSAL_QUEUE_LEN_MAX: usize = 4096;
/// Commands per log entry.
const BATCH_COMMANDS_MAX: usize = 256;
/// Encoded bytes per log entry (a command larger than this goes alone). A
/// CompleteMultipartUpload of 10,000 parts encodes to about 0.5 MiB.
const BATCH_SIZE_BYTES_MAX: u64 = 4 * 1024 * 1024;

/// The payload of one Raft log entry: commands applied in order, each seeing
/// the effects of the ones before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandBatch {
    pub commands: Vec<Command>,
}

struct Proposal {
    command: Command,
    size_bytes: u64,
    reply: oneshot::Sender<Result<CommandResult, MetaError>>,
}

/// The sending side of the proposal queue.
pub struct Batcher {
    queue: mpsc::Sender<Proposal>,
}

impl Batcher {
    /// Start the batcher task. It ends when the `Batcher` is dropped.
    pub fn spawn(raft: Raft, node_id: NodeId, link: Arc<dyn LeaderLink>) -> Self {
        let (queue, proposals) = mpsc::channel(PROPOSAL_QUEUE_LEN_MAX);
        tokio::spawn(run(raft, node_id, link, proposals));
        Self { queue }
    }

    pub async fn propose(&self, command: Command) -> Result<CommandResult, MetaError> {
        // An unmeasurable command is counted as huge, so it goes alone.
        let size_bytes = bincode::serialized_size(&command).unwrap_or(BATCH_SIZE_BYTES_MAX);
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Proposal {
                command,
                size_bytes,
                reply,
            })
            .await
            .map_err(|_| MetaError::ShuttingDown)?;
        answer.await.map_err(|_| MetaError::ShuttingDown)?
    }
}

fn copy_error(error: &MetaError) -> MetaError {
    match error {
        MetaError::Storage(message) => MetaError::Storage(message.clone()),
        MetaError::Raft(message) => MetaError::Raft(message.clone()),
        MetaError::NotLeader => MetaError::NotLeader,
        MetaError::ShuttingDown => MetaError::ShuttingDown,
        MetaError::Unavailable(message) => MetaError::Unavailable(message.clone()),
        MetaError::UnknownMember(id) => MetaError::UnknownMember(*id),
    }
}

/// Commit one batch: on the leader through Raft, on any other member by
/// forwarding it to the leader. Bounded in time, so a node cut off from the
/// majority answers 503 instead of hanging.
async fn commit(
    raft: &Raft,
    node_id: NodeId,
    link: &dyn LeaderLink,
    batch: CommandBatch,
) -> Result<Vec<CommandResult>, MetaError> {
    let leader = {
        let metrics = raft.metrics();
        let metrics = metrics.borrow();
        metrics.current_leader.map(|leader| {
            let node = metrics
                .membership_config
                .membership()
                .get_node(&leader)
                .cloned();
            (leader, node)
        })
    };
    let commit = async {
        match leader {
            Some((leader, _)) if leader == node_id => crate::client_write(raft, batch).await,
            Some((leader, Some(node))) => link.propose(leader, &node, batch).await,
            _ => Err(MetaError::Unavailable("no leader".to_owned())),
        }
    };
    tokio::time::timeout(Duration::from_millis(PROPOSE_TIMEOUT_MS), commit)
        .await
        .map_err(|_| MetaError::Unavailable("proposal timed out".to_owned()))?
}

async fn run(
    raft: Raft,
    node_id: NodeId,
    link: Arc<dyn LeaderLink>,
    mut proposals: mpsc::Receiver<Proposal>,
) {
    // A proposal that did not fit into the previous batch.
    let mut carried: Option<Proposal> = None;
    loop {
        let first = match carried.take() {
            Some(proposal) => proposal,
            None => match proposals.recv().await {
                Some(proposal) => proposal,
                None => return,
            },
        };
        let mut size_bytes = first.size_bytes;
        let mut batch = vec![first];
        while batch.len() < BATCH_COMMANDS_MAX {
            let Ok(proposal) = proposals.try_recv() else {
                break;
            };
            if size_bytes.saturating_add(proposal.size_bytes) > BATCH_SIZE_BYTES_MAX {
                carried = Some(proposal);
                break;
            }
            size_bytes = size_bytes.saturating_add(proposal.size_bytes);
            batch.push(proposal);
        }

        let (commands, replies): (Vec<Command>, Vec<_>) = batch
            .into_iter()
            .map(|proposal| (proposal.command, proposal.reply))
            .unzip();
        let outcome = match commit(&raft, node_id, link.as_ref(), CommandBatch { commands }).await {
            Ok(results) if results.len() == replies.len() => Ok(results),
            Ok(results) => Err(MetaError::Raft(format!(
                "{} results for {} commands",
                results.len(),
                replies.len()
            ))),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    // The caller may have given up waiting; the command stands.
                    let _ = reply.send(Ok(result));
                }
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(copy_error(&error)));
                }
            }
        }
    }
}
