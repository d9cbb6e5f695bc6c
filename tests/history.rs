//! A recorded history of S3 operations against a region and the checks
//! that must hold over it (DESIGN.md §10, layer 5): nothing acknowledged is
//! lost, no acknowledged DELETE comes back, and no read returns a value
//! older than a write acknowledged before the read began.
//!
//! Every PUT writes a body no other PUT writes, so a value identifies its
//! write (by MD5). A failed or timed-out write is indeterminate: it may
//! have taken effect at any point after its invocation, so it may explain
//! a read but never obliges one.

use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Put {
        key: String,
        md5: String,
    },
    Delete {
        key: String,
    },
    /// `value`: the MD5 read, `None` for 404.
    Get {
        key: String,
        value: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Op {
    /// Which node served it (index into the cluster's nodes).
    pub node: usize,
    pub kind: Kind,
    pub invoked: Instant,
    pub completed: Instant,
    /// Acknowledged (2xx; for GET: a value or a 404 was returned).
    pub ok: bool,
}

impl Op {
    fn key(&self) -> &str {
        match &self.kind {
            Kind::Put { key, .. } | Kind::Delete { key } | Kind::Get { key, .. } => key,
        }
    }

    fn is_write(&self) -> bool {
        !matches!(self.kind, Kind::Get { .. })
    }
}

/// Writes per key, for the checks.
fn writes_by_key(history: &[Op]) -> BTreeMap<&str, Vec<&Op>> {
    let mut writes: BTreeMap<&str, Vec<&Op>> = BTreeMap::new();
    for op in history.iter().filter(|op| op.is_write()) {
        writes.entry(op.key()).or_default().push(op);
    }
    writes
}

/// Whether a read of `key` that ran from `invoked` to `completed` may have
/// returned `value` given `writes` (all writes to the key).
fn explain(
    writes: &[&Op],
    value: Option<&str>,
    invoked: Instant,
    completed: Instant,
) -> Result<(), String> {
    // Writes acknowledged before the read began: the read must not return
    // a value that one of them had certainly overwritten.
    let acked_before: Vec<&&Op> = writes
        .iter()
        .filter(|w| w.ok && w.completed < invoked)
        .collect();
    // Candidate writes whose value this could be.
    let candidates: Vec<&&Op> = writes
        .iter()
        .filter(|w| w.invoked < completed)
        .filter(|w| match (&w.kind, value) {
            (Kind::Put { md5, .. }, Some(value)) => md5 == value,
            (Kind::Delete { .. }, None) => true,
            _ => false,
        })
        .collect();
    let not_overwritten = |candidate: &Op| {
        !acked_before
            .iter()
            .any(|w| !std::ptr::eq(**w, candidate) && candidate.completed < w.invoked)
    };
    if candidates
        .iter()
        .any(|candidate| not_overwritten(candidate))
    {
        return Ok(());
    }
    // 404 is also the initial state, if no PUT was certainly done before.
    if value.is_none()
        && !acked_before
            .iter()
            .any(|w| matches!(w.kind, Kind::Put { .. }))
    {
        return Ok(());
    }
    Err(match value {
        Some(value) if candidates.is_empty() => format!("returned {value}, which no write wrote"),
        Some(value) => {
            format!("returned {value}, overwritten by a write acknowledged before the read began")
        }
        None => {
            "returned 404 after an acknowledged PUT, with no DELETE that could follow it".to_owned()
        }
    })
}

/// Every violation in `history`.
pub fn check(history: &[Op]) -> Vec<String> {
    let writes = writes_by_key(history);
    let mut violations = Vec::new();
    for read in history.iter().filter(|op| op.ok) {
        let Kind::Get { key, value } = &read.kind else {
            continue;
        };
        let key_writes = writes.get(key.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        if let Err(reason) = explain(key_writes, value.as_deref(), read.invoked, read.completed) {
            violations.push(format!("GET {key} on node {}: {reason}", read.node));
        }
    }
    violations
}

/// After healing: `final_value(key)` was read (from some node) after every
/// operation had ended. Every key ever written must read back as a value
/// no acknowledged write overwrote.
pub fn check_final(
    history: &[Op],
    node: usize,
    final_value: &BTreeMap<String, Option<String>>,
) -> Vec<String> {
    let writes = writes_by_key(history);
    let after_all = history
        .iter()
        .map(|op| op.completed)
        .max()
        .map_or_else(Instant::now, |last| {
            last + std::time::Duration::from_nanos(1)
        });
    let mut violations = Vec::new();
    for (key, key_writes) in &writes {
        let value = final_value.get(*key).cloned().flatten();
        if let Err(reason) = explain(key_writes, value.as_deref(), after_all, after_all) {
            violations.push(format!("final read of {key} on node {node}: {reason}"));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    fn put(base: Instant, key: &str, md5: &str, from: u64, to: u64, ok: bool) -> Op {
        Op {
            node: 0,
            kind: Kind::Put {
                key: key.into(),
                md5: md5.into(),
            },
            invoked: at(base, from),
            completed: at(base, to),
            ok,
        }
    }

    fn delete(base: Instant, key: &str, from: u64, to: u64, ok: bool) -> Op {
        Op {
            node: 0,
            kind: Kind::Delete { key: key.into() },
            invoked: at(base, from),
            completed: at(base, to),
            ok,
        }
    }

    fn get(base: Instant, key: &str, value: Option<&str>, from: u64, to: u64) -> Op {
        Op {
            node: 1,
            kind: Kind::Get {
                key: key.into(),
                value: value.map(str::to_owned),
            },
            invoked: at(base, from),
            completed: at(base, to),
            ok: true,
        }
    }

    #[test]
    fn accepts_linearizable_histories() {
        let t = Instant::now();
        let history = vec![
            put(t, "k", "a", 0, 10, true),
            get(t, "k", Some("a"), 11, 12),
            // Concurrent with the write of b: either value is fine.
            put(t, "k", "b", 20, 30, true),
            get(t, "k", Some("a"), 21, 25),
            get(t, "k", Some("b"), 22, 26),
            // An indeterminate write may show up.
            put(t, "k", "c", 40, 50, false),
            get(t, "k", Some("c"), 60, 61),
            delete(t, "k", 70, 80, true),
            get(t, "k", None, 81, 82),
            get(t, "never", None, 0, 1),
        ];
        assert_eq!(check(&history), Vec::<String>::new());
    }

    #[test]
    fn finds_stale_reads_lost_writes_and_resurrections() {
        let t = Instant::now();
        let stale = vec![
            put(t, "k", "a", 0, 10, true),
            put(t, "k", "b", 20, 30, true),
            get(t, "k", Some("a"), 31, 32),
        ];
        assert_eq!(check(&stale).len(), 1);
        let lost = vec![put(t, "k", "a", 0, 10, true), get(t, "k", None, 11, 12)];
        assert_eq!(check(&lost).len(), 1);
        let resurrected = vec![
            put(t, "k", "a", 0, 10, true),
            delete(t, "k", 20, 30, true),
            get(t, "k", Some("a"), 31, 32),
        ];
        assert_eq!(check(&resurrected).len(), 1);
        let invented = vec![get(t, "k", Some("zzz"), 0, 1)];
        assert_eq!(check(&invented).len(), 1);
        // A read from the future (value written after the read ended).
        let future = vec![get(t, "k", Some("a"), 0, 1), put(t, "k", "a", 5, 6, true)];
        assert_eq!(check(&future).len(), 1);
    }

    #[test]
    fn final_state_must_hold_every_acknowledged_write() {
        let t = Instant::now();
        let history = vec![
            put(t, "u1", "a", 0, 10, true),
            put(t, "u2", "b", 0, 10, false),
            put(t, "s", "c", 0, 10, true),
            delete(t, "s", 20, 30, true),
        ];
        let good: BTreeMap<String, Option<String>> = [
            ("u1".to_owned(), Some("a".to_owned())),
            ("u2".to_owned(), None),
            ("s".to_owned(), None),
        ]
        .into();
        assert_eq!(check_final(&history, 0, &good), Vec::<String>::new());
        let mut lost = good.clone();
        lost.insert("u1".into(), None);
        assert_eq!(check_final(&history, 0, &lost).len(), 1);
        let mut back = good;
        back.insert("s".into(), Some("c".into()));
        assert_eq!(check_final(&history, 0, &back).len(), 1);
    }
}
