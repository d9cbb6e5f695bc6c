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

use crate::model::{Command, CommandResult};
use crate::raft_types::Raft;
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
    pub fn spawn(raft: Raft) -> Self {
        let (queue, proposals) = mpsc::channel(PROPOSAL_QUEUE_LEN_MAX);
        tokio::spawn(run(raft, proposals));
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
    }
}

async fn run(raft: Raft, mut proposals: mpsc::Receiver<Proposal>) {
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
        let outcome = match crate::client_write(&raft, CommandBatch { commands }).await {
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
